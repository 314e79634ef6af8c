import BagbotIPC
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// `GET /api/subscription/me`'s answer: the caller's account, which changes only when their token or subscription
/// does, and today's usage, which changes with every request.
///
/// The account's JSON is kept per token and written again only when the account differs from the one it was written
/// for (compared whole, so a kept answer is never stale). `me` is the call a subscriber polls to watch their limits,
/// and encoding its 21 members was a tenth of the gateway's CPU under load (docs/performance.md, "The gateway under
/// wrk"); the usage alone is four.
final class MeAnswers: Sendable {
    /// Everything `me` answers but `usage`, under the names the API gives them.
    struct Account: Encodable, Equatable {
        var owner: String
        var role: TokenRole
        var tier: Tier
        var status: SubscriptionStatus
        var limits: TierLimits
        var overrides: LimitOverrides?
        var token: TokenView
    }

    struct Usage: Encodable, Equatable {
        /// Requests admitted today (UTC), this one included.
        var today: Int
        /// Requests still allowed today; nil when there is no daily cap.
        var remainingToday: Int?
        var remainingThisMinute: Int
        /// The next 00:00 UTC, when the daily count starts again.
        var dayResetsAt: Date
    }

    /// Accounts kept at most; past it they are all dropped and written again as they are asked for.
    static let capacity = 4_096

    /// By token id: the account and its JSON object without the closing brace.
    private let kept = NIOLockedValueBox<[String: (account: Account, open: ByteBuffer)]>([:])

    /// The answer: the account's members and `usage`, keys in the API's order (`usage` sorts after every account
    /// member, so it closes the object).
    func body(account: Account, usage: Usage) throws -> ByteBuffer {
        let open = try openAccount(account)
        var buffer = ByteBufferAllocator().buffer(capacity: open.readableBytes + 128)
        buffer.writeImmutableBuffer(open)
        buffer.writeStaticString(",\"usage\":")
        try APIJSON.encode(usage, appendingTo: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    /// The account's JSON object, its closing brace left off.
    private func openAccount(_ account: Account) throws -> ByteBuffer {
        let id = account.token.id
        if let hit = kept.withLockedValue({ $0[id] }), hit.account == account { return hit.open }
        var open = ByteBufferAllocator().buffer(capacity: 512)
        try APIJSON.encode(account, appendingTo: &open)
        guard open.readableBytesView.last == UInt8(ascii: "}") else {
            throw APIError(.internalServerError, "internal", "the account's JSON is not an object")
        }
        open.moveWriterIndex(to: open.writerIndex - 1)
        kept.withLockedValue { kept in
            if kept.count >= Self.capacity, kept[id] == nil { kept.removeAll(keepingCapacity: true) }
            kept[id] = (account, open)
        }
        return open
    }

    /// Accounts kept now.
    var keptCount: Int { kept.withLockedValue { $0.count } }
}
