import BagbotDomain
import BagbotIPC
import Foundation
import Testing
@testable import GatewayCore

/// `GET /api/subscription/me` is written from a kept account and the request's usage: the bytes must be JSONEncoder's
/// for the whole answer, whatever changed in the account since it was kept.
@Suite("me's answer from a kept account")
struct MeAnswersTests {
    /// The whole answer as one value, the reference JSONEncoder writes.
    struct WholeAnswer: Encodable {
        var owner: String
        var role: TokenRole
        var tier: Tier
        var status: SubscriptionStatus
        var limits: TierLimits
        var overrides: LimitOverrides?
        var token: TokenView
        var usage: MeAnswers.Usage

        init(_ account: MeAnswers.Account, _ usage: MeAnswers.Usage) {
            (owner, role, tier, status) = (account.owner, account.role, account.tier, account.status)
            (limits, overrides, token, self.usage) = (account.limits, account.overrides, account.token, usage)
        }
    }

    static func expected(_ account: MeAnswers.Account, _ usage: MeAnswers.Usage) throws -> String {
        String(decoding: try APIJSON.makeFoundationEncoder().encode(WholeAnswer(account, usage)), as: UTF8.self)
    }

    static func written(_ answers: MeAnswers, _ account: MeAnswers.Account, _ usage: MeAnswers.Usage) throws -> String {
        let body = try answers.body(account: account, usage: usage)
        return String(buffer: body)
    }

    static let texts = ["b-0", "ana", "zoë", "quote\"d", "back\\slash", "tab\there", "line\nbreak", "/slash/", "日本", ""]

    static func date(_ random: inout SplitMix64) -> Date {
        Date(timeIntervalSince1970: Double(1_600_000_000 + Int(random.next() % 400_000_000)))
    }

    static func maybe<T>(_ random: inout SplitMix64, _ make: (inout SplitMix64) -> T) -> T? {
        random.next() % 3 == 0 ? nil : make(&random)
    }

    static func account(_ random: inout SplitMix64, id: String) -> MeAnswers.Account {
        let owner = texts[Int(random.next() % UInt64(texts.count))]
        let token = APIToken(
            id: id, prefix: "bgb_" + String(random.next() % 100_000), owner: owner, role: random.next() % 2 == 0 ? .user : .admin,
            tier: Tier.allCases[Int(random.next() % 3)].rawValue, createdAt: date(&random),
            expiresAt: maybe(&random, date), revokedAt: maybe(&random, date), lastUsedAt: maybe(&random, date),
            rotatedTo: maybe(&random) { "tok-" + String($0.next() % 1_000) })
        let overrides = maybe(&random) { random in
            LimitOverrides(perMinute: maybe(&random) { Int($0.next() % 1_000) }, perDay: maybe(&random) { Int($0.next() % 100_000) },
                           readOnly: maybe(&random) { $0.next() % 2 == 0 })
        }
        return MeAnswers.Account(
            owner: owner, role: token.role, tier: Tier.allCases[Int(random.next() % 3)], status: random.next() % 2 == 0 ? .active : .suspended,
            limits: TierLimits(perMinute: Int(random.next() % 100_000), perDay: Int(random.next() % 1_000_000), readOnly: random.next() % 2 == 0),
            overrides: overrides, token: TokenView(token, now: date(&random)))
    }

    static func usage(_ random: inout SplitMix64) -> MeAnswers.Usage {
        MeAnswers.Usage(today: Int(random.next() % 1_000_000), remainingToday: maybe(&random) { Int($0.next() % 1_000_000) },
                        remainingThisMinute: Int(random.next() % 1_000), dayResetsAt: date(&random))
    }

    @Test("every answer is JSONEncoder's, through accounts that change under the same token")
    func sameBytesAsJSONEncoder() throws {
        var random = SplitMix64(seed: 0x3E)
        let answers = MeAnswers()
        var accounts: [String: MeAnswers.Account] = [:]
        for step in 0..<3_000 {
            let id = "tok-\(random.next() % 16)"
            // Mostly the kept account again; sometimes a change of any of its members.
            let account = (accounts[id] == nil || random.next() % 4 == 0) ? Self.account(&random, id: id) : accounts[id]!
            accounts[id] = account
            let usage = Self.usage(&random)
            #expect(try Self.written(answers, account, usage) == Self.expected(account, usage), "step \(step)")
        }
    }

    @Test("a change of one member of a kept account shows in the next answer")
    func changedAccountIsWrittenAgain() throws {
        var random = SplitMix64(seed: 7)
        let answers = MeAnswers()
        let usage = Self.usage(&random)
        var account = Self.account(&random, id: "tok-1")
        _ = try answers.body(account: account, usage: usage)
        let changes: [(inout MeAnswers.Account) -> Void] = [
            { $0.token.lastUsedAt = Date(timeIntervalSince1970: 1_800_000_000) },
            { $0.token.state = "revoked" },
            { $0.tier = $0.tier == .pro ? .free : .pro },
            { $0.status = $0.status == .active ? .suspended : .active },
            { $0.limits.perMinute += 1 },
            { $0.overrides = LimitOverrides(perMinute: 5) },
            { $0.overrides = nil },
            { $0.owner += "x" },
        ]
        for change in changes {
            change(&account)
            #expect(try Self.written(answers, account, usage) == Self.expected(account, usage))
        }
    }

    @Test("no more accounts are kept than the capacity, and answers stay right past it")
    func boundedByCapacity() throws {
        var random = SplitMix64(seed: 11)
        let answers = MeAnswers()
        for n in 0..<(MeAnswers.capacity + 10) {
            let account = Self.account(&random, id: "tok-\(n)")
            let usage = Self.usage(&random)
            if n % 500 == 0 || n >= MeAnswers.capacity {
                #expect(try Self.written(answers, account, usage) == Self.expected(account, usage))
            } else {
                _ = try answers.body(account: account, usage: usage)
            }
            #expect(answers.keptCount <= MeAnswers.capacity)
        }
    }
}
