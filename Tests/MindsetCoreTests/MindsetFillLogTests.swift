import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

/// routerd's fill log as mindsetd reads it, in memory: fills are appended with the next sequence.
final class FakeFillLog: RouterLedger, @unchecked Sendable {
    let entries = NIOLockedValueBox<[Fill]>([])
    /// The account's equity `account()` reports (nil: the call fails, as with no account yet).
    let equity = NIOLockedValueBox<ExactDecimal?>(nil)
    let currency = NIOLockedValueBox("USD")
    let databaseId = NIOLockedValueBox("db-1")
    /// What `account()` gives as `AccountSummary.marks` (nil: none, as an older routerd).
    let marks = NIOLockedValueBox<[AccountSummary.SymbolMark]?>(nil)
    /// What `account()` gives as `AccountSummary.unvalued`: assets routerd could not price (its equity is then not taken).
    let unvalued = NIOLockedValueBox<[String]>([])
    let failing = NIOLockedValueBox(false)
    let reads = NIOLockedValueBox(0)
    /// What routerd says are the account's venues (`FillsResponse.accountVenues`; nil: every venue).
    let accountVenues = NIOLockedValueBox<[Venue]?>(nil)
    /// Fills ever made, so every fill has an id of its own (as a venue's trade ids are).
    let made = NIOLockedValueBox(0)

    /// `order`: the client order id the fill belongs to (default: an order of its own).
    func append(_ side: Side, _ quantity: ExactDecimal, at price: ExactDecimal, fee: ExactDecimal = 0, strategy: String? = "micro_trend",
                time: Date, symbol: String = "BTCUSDT", venue: Venue = .paper, order: String? = nil, requestId: String? = nil) {
        let number = made.withLockedValue { made in
            made += 1
            return made
        }
        entries.withLockedValue { entries in
            let sequence = Int64(entries.count + 1)
            entries.append(Fill(fillId: "\(databaseId.withLockedValue { $0 })-f\(number)", clientOrderId: order ?? "bb-\(sequence)", venue: venue, symbol: symbol, side: side,
                                quantity: quantity, price: price, fee: fee, time: time, strategyId: strategy, requestId: requestId ?? "r\(sequence)",
                                sequence: sequence))
        }
    }

    /// A long position opened and closed: a buy, then a sell of the same quantity.
    func roundTrip(_ quantity: ExactDecimal, opened: ExactDecimal, closed: ExactDecimal, at openedAt: Date, _ closedAt: Date) {
        append(.buy, quantity, at: opened, time: openedAt)
        append(.sell, quantity, at: closed, time: closedAt)
    }

    func fills(after: Int64, limit: Int) async throws -> FillsResponse {
        reads.withLockedValue { $0 += 1 }
        if failing.withLockedValue({ $0 }) { throw IPCError(.connectionLost, "routerd is down") }
        return page(after: after, limit: limit)
    }

    /// The page `fills` answers, for tests that drive the engine itself.
    func page(after: Int64, limit: Int = 1_000) -> FillsResponse {
        let all = entries.withLockedValue { $0 }
        return FillsResponse(fills: Array(all.filter { ($0.sequence ?? 0) > after }.prefix(limit)), databaseId: databaseId.withLockedValue { $0 },
                             lastSequence: all.compactMap(\.sequence).max() ?? 0, accountVenues: accountVenues.withLockedValue { $0 })
    }

    /// The orders mindsetd placed (to flatten while LOCKED); they fail while `placeFailing` is set, else fill
    /// at once at `fillPrice` (the fill appended to the log, as routerd would record it).
    let placed = NIOLockedValueBox<[PlaceOrderRequest]>([])
    let placeFailing = NIOLockedValueBox(false)
    /// What a failing `place` throws (by default a refusal: the order never reached routerd).
    let placeError = NIOLockedValueBox(IPCError(.unavailable, "routerd is busy"))
    let fillPrice = NIOLockedValueBox<ExactDecimal>(100)
    /// Orders working at the venue (`workingOrders`), and the ids cancelled.
    let working = NIOLockedValueBox<[OrderRecord]>([])
    let cancelled = NIOLockedValueBox<[String]>([])
    /// routerd's trading switch, as `account()` reports it.
    let tradingEnabled = NIOLockedValueBox(true)
    /// Runs before each order is placed (to make things happen while an order is on its way).
    let beforePlace = NIOLockedValueBox<(@Sendable () async -> Void)?>(nil)

    func workingOrders(strategyId: String, symbol: String) async throws -> [OrderRecord] {
        working.withLockedValue { $0.filter { $0.strategyId == strategyId && $0.symbol == symbol } }
    }

    /// routerd's symbol rules (`symbolRules()`); none by default.
    let rules = NIOLockedValueBox<[SymbolRules]>([])
    func symbolRules() async throws -> [SymbolRules] { rules.withLockedValue { $0 } }

    func cancel(clientOrderId: String) async throws -> OrderRecord {
        cancelled.withLockedValue { $0.append(clientOrderId) }
        return try working.withLockedValue { working in
            guard let index = working.firstIndex(where: { $0.clientOrderId == clientOrderId }) else { throw IPCError(.notFound, "no order") }
            var order = working.remove(at: index)
            order.status = .cancelled
            return order
        }
    }

    func place(_ request: PlaceOrderRequest) async throws -> OrderRecord {
        if let hook = beforePlace.withLockedValue({ $0 }) { await hook() }
        placed.withLockedValue { $0.append(request) }
        if placeFailing.withLockedValue({ $0 }) { throw placeError.withLockedValue { $0 } }
        let price = fillPrice.withLockedValue { $0 }
        append(request.side, request.quantity, at: price, strategy: request.strategyId, time: Date(), symbol: request.symbol)
        return OrderRecord(clientOrderId: request.clientOrderId ?? "-", venue: .paper, symbol: request.symbol, side: request.side, type: request.type,
                           quantity: request.quantity, status: .filled, filledQuantity: request.quantity, averageFillPrice: price,
                           reduceOnly: request.reduceOnly ?? false, strategyId: request.strategyId, createdAt: Date(), updatedAt: Date())
    }

    func account() async throws -> AccountSummary {
        guard let equity = equity.withLockedValue({ $0 }) else { throw IPCError(.unavailable, "no account") }
        return AccountSummary(currency: currency.withLockedValue { $0 }, equity: equity, cash: equity, realizedPnlToday: 0, feesToday: 0, unrealizedPnl: 0, exposure: 0,
                              venues: [], symbols: [], rates: [], unvalued: unvalued.withLockedValue { $0 }, dayStart: Date(timeIntervalSince1970: 0),
                              tradingEnabled: tradingEnabled.withLockedValue { $0 }, pausedReason: nil, marks: marks.withLockedValue { $0 })
    }
}

@Suite("mindsetd counts closed trades from routerd's fill log")
struct MindsetFillLogTests {
    let t0 = utc("2024-03-01T10:00:00Z")
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func service(_ dir: TempDir, _ log: FakeFillLog, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        MindsetService(rules: makeRules(change), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger, ledger: log)
    }

    func entry(at time: Date, seen: Int64?) -> TradeProposal {
        var proposal = proposal(at: time)
        proposal.fillSequence = seen
        return proposal
    }

    @Test("a loss closed by fills the caller has seen counts before its next entry is judged")
    func lossCountsBeforeTheNextEntry() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log) { $0.revengeCooldownSeconds = 300 }
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 1, at: 100, time: at(1))
        log.append(.sell, 1, at: 90, fee: 0.5, time: at(2))
        // The entry arrives before any poll: it carries the sequence of the fills its caller applied.
        let decision = try await mindset.evaluate(entry(at: at(3), seen: 2))
        #expect(!decision.approved)
        #expect(decision.reasons.first?.hasPrefix("revenge guard") == true, "\(decision.reasons)")
        let snapshot = await mindset.snapshot()
        #expect(snapshot.dailyPnl == -10.5)
        #expect(snapshot.trades == 1)
        #expect(snapshot.losses == 1)
        // Counted once: another catch-up, or the same sequence again, changes nothing.
        #expect(await mindset.catchUp())
        _ = try await mindset.evaluate(entry(at: at(4), seen: 2))
        #expect(await mindset.snapshot().trades == 1)
    }

    @Test("one closing order in several executions is one trade: a stop that swept three price levels is one loss, not a streak of three")
    func partsOfOneOrderAreOneTrade() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log) { $0.revengeCooldownSeconds = 0 }
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 3, at: 100, time: at(1))
        for (level, price) in [ExactDecimal(99), 98, 97].enumerated() {
            log.append(.sell, 1, at: price, time: at(2 + Double(level) / 10), order: "bb-stop")
        }
        // Another order's win right after: a trade of its own.
        log.append(.buy, 1, at: 100, time: at(3))
        log.append(.sell, 1, at: 101, time: at(4))
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 2 && snapshot.losses == 1 && snapshot.wins == 1, "trades \(snapshot.trades), losses \(snapshot.losses)")
        #expect(snapshot.dailyPnl == -5, "every part's P&L counts: -1 -2 -3 +1")
        #expect(snapshot.emotionState == "CALM")
        // Read again after a restart: nothing counted twice.
        #expect(await service(dir, log).catchUp())
        #expect(await service(dir, log).snapshot().trades == 2)
    }

    @Test("a gap in the fill log: an entry is not judged on the trades before it (trades_pending), fresh or not")
    func gapHoldsEntries() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log)
        log.append(.buy, 1, at: 100, time: at(1))
        log.append(.sell, 1, at: 99, time: at(2))
        log.append(.buy, 1, at: 100, time: at(3))
        log.append(.sell, 1, at: 90, time: at(4))
        // Sequence 3 missing (a log copied in part): 4, a loss, comes after the gap.
        log.entries.withLockedValue { $0.removeAll { $0.sequence == 3 } }
        let decision = try await mindset.evaluate(entry(at: at(5), seen: nil))
        #expect(!decision.approved && decision.reasons.first?.hasPrefix("trades_pending") == true, "\(decision.reasons)")
    }

    @Test("an order's part counted before a relink is not summed again: the part after it still counts")
    func partCountedBeforeARelink() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log) { $0.revengeCooldownSeconds = 0 }
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 2, at: 100, time: at(1))
        log.append(.sell, 1, at: 99, time: at(2), order: "bb-resting")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().dailyPnl == -1)
        // The rest of the resting order fills; before it is read, the log is relinked (the same file, now live).
        log.append(.sell, 1, at: 98, time: at(3), order: "bb-resting")
        log.databaseId.withLockedValue { $0 = "db-1+live" }
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.dailyPnl == -3, "the second part's loss counted, the first not twice: \(snapshot.dailyPnl)")
    }

    @Test("switched to live after a paper run: mindsetd starts over from the live venue's fills; paper ones move nothing and count nothing")
    func paperFillsInALiveLogAreSteppedOver() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        // On paper: a losing round trip and a long of 3 at 50, counted and kept.
        log.roundTrip(1, opened: 100, closed: 99, at: at(1), at(2))
        log.append(.buy, 3, at: 50, time: at(3))
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().trades == 1)

        // routerd restarted live: its log has another identity and names Binance as the account.
        log.databaseId.withLockedValue { $0 = "db-1+live" }
        log.accountVenues.withLockedValue { $0 = [.binance] }
        log.append(.buy, 1, at: 100, time: at(4), venue: .binance)
        log.append(.sell, 1, at: 99, time: at(5), venue: .binance)
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.countedFillSequence == 5, "the paper fills stepped over, not waited for")
        // Mixed with the paper long (4 at an average of 62.5) the live close would read as a gain of 36.5.
        #expect(snapshot.dailyPnl == -2, "the paper loss of the day counted once, and the live close against its own entry: \(snapshot.dailyPnl)")
        #expect(snapshot.trades == 2)
    }

    @Test("while the fill log cannot be read, an entry that needs it is blocked (trades_pending); exits pass")
    func tradesPendingWhileTheLogIsUnreadable() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 90, at: at(1), at(2))
        log.failing.withLockedValue { $0 = true }
        let blocked = try await mindset.evaluate(entry(at: at(3), seen: 2))
        #expect(!blocked.approved)
        #expect(blocked.reasons.first?.hasPrefix("trades_pending") == true, "\(blocked.reasons)")
        #expect(await mindset.snapshot().blocksByReason["trades_pending"] == 1)
        #expect(try await mindset.evaluate(entry(at: at(3), seen: 2).exit).approved)
        #expect(try await mindset.evaluate(entry(at: at(3), seen: 0)).approved, "an entry whose caller saw nothing new does not wait")

        log.failing.withLockedValue { $0 = false }
        let judged = try await mindset.evaluate(entry(at: at(4), seen: 2))
        #expect(await mindset.snapshot().trades == 1)
        #expect(judged.reasons.first?.hasPrefix("revenge guard") == true)
    }

    @Test("after a restart nothing is counted twice and nothing is lost: where counting stands is saved with the state")
    func restartCountsOnce() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let first = service(dir, log)
        #expect(await first.catchUp())
        log.roundTrip(1, opened: 100, closed: 95, at: at(1), at(2))
        #expect(await first.catchUp())
        // Fills recorded while mindsetd was down (arsenald killed too: nobody sent anything).
        log.roundTrip(2, opened: 100, closed: 101, at: at(3), at(4))

        let restarted = service(dir, log)
        #expect(await restarted.snapshot().trades == 1)
        #expect(await restarted.catchUp())
        let snapshot = await restarted.snapshot()
        #expect(snapshot.trades == 2)
        #expect(snapshot.dailyPnl == -3)
        #expect(await restarted.catchUp())
        #expect(await restarted.snapshot().trades == 2)
    }

    @Test("what the log holds when mindsetd first links to it is history: positions, not trades; their later close counts")
    func historyIsNotCountedToday() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        log.roundTrip(1, opened: 100, closed: 50, at: at(1), at(2))
        log.append(.buy, 2, at: 100, fee: 1, time: at(3))
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().trades == 0, "counted before (by the trades arsenald sent), or on a day mindsetd never judged")
        log.append(.sell, 2, at: 110, fee: 1, time: at(4))
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 1)
        #expect(snapshot.dailyPnl == 18, "the open position from history, with its fee, closes to the exact P&L")
    }

    @Test("another database (a new file, a restored backup) is linked anew, its history not counted")
    func databaseChange() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 90, at: at(1), at(2))
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().trades == 1)

        // routerd is back on another database; arsenald made two losing round trips on it (sequences 1–4) and
        // proposes an entry before mindsetd's poll: the entry names the database, so mindsetd counts first.
        log.entries.withLockedValue { $0 = [] }
        log.databaseId.withLockedValue { $0 = "db-2" }
        log.roundTrip(1, opened: 100, closed: 80, at: at(3), at(4))
        log.roundTrip(1, opened: 100, closed: 99, at: at(5), at(6))
        var entry = entry(at: at(7), seen: 4)
        entry.fillDatabaseId = "db-2"
        let decision = try await mindset.evaluate(entry)
        #expect(!decision.approved)
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 3, "today's fills of the new database count; nothing of the old one twice")
        #expect(snapshot.dailyPnl == -31)
    }

    @Test("a lost state file: today's trades are counted again from the fill log, and their lock comes back")
    func lostStateRecountsToday() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let today = Date()
        let mindset = service(dir, log) { $0.maxConsecutiveLosses = 2 }
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 90, at: today, today)
        log.roundTrip(1, opened: 100, closed: 90, at: today, today)
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().emotionState == "LOCKED")

        try FileManager.default.removeItem(atPath: dir.file("state/mindset_state.json"))
        let restarted = service(dir, log) { $0.maxConsecutiveLosses = 2 }
        #expect(await restarted.catchUp())
        #expect(await restarted.snapshot().losses == 2)
        #expect(await restarted.snapshot().emotionState == "LOCKED")
    }

    @Test("a log rewritten under the same numbers (its end lost in a power cut, recorded again) is counted anew, once")
    func rewrittenLog() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let today = Date()
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 99, at: today, today)
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().dailyPnl == -1)
        // The last fill is lost; a different close takes its number, then more follow.
        log.entries.withLockedValue { entries in
            entries.removeLast()
            entries.append(Fill(fillId: "other", clientOrderId: "bb-x", venue: .paper, symbol: "BTCUSDT", side: .sell, quantity: 1,
                                price: 95, fee: 0, time: today, strategyId: "micro_trend", requestId: nil, sequence: 2))
        }
        log.roundTrip(1, opened: 100, closed: 98, at: today, today)
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.dailyPnl == -8, "−1 (already counted, its fill id remembered) −5 −2, each once")
        #expect(snapshot.trades == 3)
    }

    @Test("a fill stamped days ahead by a venue's clock does not roll the day or lift a lock; a fill beyond range locks at the clock")
    func fillTimesAreBounded() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let now = Date()
        let mindset = MindsetService(rules: makeRules(clockSkew: 30), store: MindsetStore(stateDirectory: dir.file("state")),
                                     logger: quietLogger, ledger: log, wallClock: { now })
        #expect(await mindset.catchUp())
        _ = try await mindset.evaluate(proposal(at: now))
        _ = try await mindset.lock(LockRequest(reason: "enough", time: nil))
        log.roundTrip(1, opened: 100, closed: 101, at: now.addingTimeInterval(3 * 86_400), now.addingTimeInterval(3 * 86_400))
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().emotionState == "LOCKED")
        #expect(await mindset.snapshot().trades == 1)

        log.append(.buy, 999_999_999_999_999_999, at: 999_999_999_999_999_999, time: now)
        #expect(await mindset.catchUp())
        let state = try #require(try MindsetStore(stateDirectory: dir.file("state")).loadState())
        #expect(state.emotion == .locked)
        #expect(state.clock ?? .distantFuture <= now.addingTimeInterval(30))
    }

    @Test("manual orders' fills (no strategy) count too: the limits are the trader's, not a strategy's")
    func manualTradesCount() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log)
        #expect(await mindset.catchUp())
        log.append(.sell, 1, at: 100, strategy: nil, time: at(1), symbol: "EURUSD")
        log.append(.buy, 1, at: 104, strategy: nil, time: at(2), symbol: "EURUSD")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().dailyPnl == -4)
    }

    @Test("a page boundary and a long log: every page is counted, in order")
    func manyPages() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log) { $0.maxTradesPerDay = 10_000; $0.maxConsecutiveLosses = 10_000; $0.dailyLossLimit = 1_000_000 }
        #expect(await mindset.catchUp())
        for index in 0..<1_200 {
            log.roundTrip(1, opened: 100, closed: 99, at: at(Double(index * 2)), at(Double(index * 2 + 1)))
        }
        #expect(await mindset.catchUp())
        let snapshot = await mindset.snapshot()
        #expect(snapshot.trades == 1_200)
        #expect(snapshot.dailyPnl == -1_200)
    }
}

@Suite("mindsetd's fill log after a second review: relinks, restored logs, first entries")
struct MindsetFillLogReviewTests {
    func service(_ dir: TempDir, _ log: FakeFillLog, now: Date, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        MindsetService(rules: makeRules(clockSkew: 30, change), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                       ledger: log, wallClock: { now })
    }

    @Test("a relink to another database reads the whole log before the entry is judged, past its first page")
    func relinkReadsTheWholeLog() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let now = Date()
        let mindset = service(dir, log, now: now) { $0.maxConsecutiveLosses = 3; $0.maxTradesPerDay = 10_000 }
        #expect(await mindset.catchUp())
        _ = try await mindset.evaluate(proposal(at: now))
        log.entries.withLockedValue { $0 = [] }
        log.databaseId.withLockedValue { $0 = "db-2" }
        let old = now.addingTimeInterval(-2 * 86_400)
        for _ in 0..<550 { log.roundTrip(1, opened: 100, closed: 100, at: old, old) }
        for _ in 0..<3 { log.roundTrip(1, opened: 100, closed: 90, at: now.addingTimeInterval(-60), now.addingTimeInterval(-60)) }
        var entry = proposal(at: now.addingTimeInterval(1))
        entry.fillSequence = 0
        entry.fillDatabaseId = "db-2"
        #expect(!(try await mindset.evaluate(entry)).approved, "three losses today in the new database: three in a row lock")
        #expect(await mindset.snapshot().losses == 3)
    }

    @Test("a restored log that reuses the sequence the caller saw, with another fill there, is read before any entry")
    func restoredLogWithTheSameNumbers() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let now = Date()
        let mindset = service(dir, log, now: now) { $0.maxConsecutiveLosses = 2; $0.revengeCooldownSeconds = 0 }
        #expect(await mindset.catchUp())
        for _ in 0..<3 { log.roundTrip(1, opened: 100, closed: 101, at: now, now) }
        #expect(await mindset.catchUp())
        // Restored to a backup ending at 2; two losing round trips take 3–6, which arsenald saw; mindsetd cannot read.
        log.entries.withLockedValue { $0.removeLast(4) }
        log.roundTrip(1, opened: 100, closed: 90, at: now, now)
        log.roundTrip(1, opened: 100, closed: 90, at: now, now)
        log.failing.withLockedValue { $0 = true }
        var entry = proposal(at: now)
        entry.fillSequence = 6
        entry.fillDatabaseId = "db-1"
        entry.fillId = log.entries.withLockedValue { $0.last?.fillId }
        let decision = try await mindset.evaluate(entry)
        #expect(!decision.approved)
        #expect(decision.reasons.first?.hasPrefix("trades_pending") == true)
    }

    @Test("the first entries after a lost state, before the caller knows any sequence, wait for the whole log")
    func firstEntriesWaitForTheLog() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let now = Date()
        log.roundTrip(1, opened: 100, closed: 90, at: now.addingTimeInterval(-5), now.addingTimeInterval(-5))
        log.roundTrip(1, opened: 100, closed: 90, at: now.addingTimeInterval(-4), now.addingTimeInterval(-4))
        let mindset = service(dir, log, now: now) { $0.maxConsecutiveLosses = 2 }
        var entry = proposal(at: now)
        entry.fillSequence = 0
        #expect(!(try await mindset.evaluate(entry)).approved)
        #expect(await mindset.snapshot().emotionState == "LOCKED")
    }

    @Test("when the log has not been read lately, an entry reads it first; unreadable, the entry waits")
    func staleLogIsReadFirst() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(Date())
        let start = wall.withLockedValue { $0 }
        let mindset = MindsetService(rules: makeRules(clockSkew: 30), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                                     ledger: log, ledgerFreshness: 3, wallClock: { wall.withLockedValue { $0 } })
        #expect(await mindset.catchUp())
        #expect(try await mindset.evaluate(proposal(at: start)).approved)
        log.failing.withLockedValue { $0 = true }
        #expect(try await mindset.evaluate(proposal(at: start.addingTimeInterval(2))).approved, "read 2 s ago: fresh")
        wall.withLockedValue { $0 = start.addingTimeInterval(4) }
        let stale = try await mindset.evaluate(proposal(at: start.addingTimeInterval(4)))
        #expect(stale.reasons.first?.hasPrefix("trades_pending") == true, "\(stale.reasons)")
        #expect(try await mindset.evaluate(proposal(at: start.addingTimeInterval(4), isEntry: false)).approved)
    }

    @Test("a new database's fill ids may repeat the old one's: its losses still count")
    func idsRepeatAcrossDatabases() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let now = Date()
        let mindset = service(dir, log, now: now)
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 90, at: now, now)
        #expect(await mindset.catchUp())
        let ids = log.entries.withLockedValue { $0.map(\.fillId) }
        log.databaseId.withLockedValue { $0 = "db-2" }
        log.entries.withLockedValue { $0 = [] }
        #expect(await mindset.catchUp())
        log.roundTrip(1, opened: 100, closed: 80, at: now, now)
        log.entries.withLockedValue { entries in
            for index in entries.indices { entries[index].fillId = ids[index] }
        }
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().dailyPnl == -30)
    }
}

extension TradeProposal {
    var exit: TradeProposal {
        var copy = self
        copy.isEntry = false
        return copy
    }
}
