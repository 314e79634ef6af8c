import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

/// `on_locked: flatten`: while LOCKED by an admin or a limit, mindsetd closes the strategies' open positions
/// with reduce-only market orders (docs/mindset.md, "Flatten on LOCKED").
@Suite("mindsetd flattens open positions on LOCKED when configured")
struct MindsetFlattenTests {
    let now = Date()

    func service(_ dir: TempDir, _ log: FakeFillLog, wall: NIOLockedValueBox<Date>, onLocked: MindsetSettings.LockedAction = .flatten,
                 _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        // An account routerd reports as trading: flattening waits for one.
        log.equity.withLockedValue { $0 = $0 ?? 100_000 }
        return MindsetService(rules: makeRules { $0.onLocked = onLocked; change(&$0) }, store: MindsetStore(stateDirectory: dir.file("state")),
                       logger: quietLogger, ledger: log, flattenRetry: 5, wallClock: { wall.withLockedValue { $0 } })
    }

    /// A long of 2 BTC for micro_trend, a short of 1.5 ETH for mean_reversion, and the trader's own: a short of 1
    /// ETH (no strategy) and a long of 0.5 BTC through arsenald's manual orders; all counted.
    func openPositions(_ log: FakeFillLog, _ mindset: MindsetService) async {
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 2, at: 100, time: now)
        log.append(.sell, ExactDecimal("1.5")!, at: 50, strategy: "mean_reversion", time: now, symbol: "ETHUSDT")
        log.append(.sell, 1, at: 50, strategy: nil, time: now, symbol: "ETHUSDT")
        log.append(.buy, ExactDecimal("0.5")!, at: 100, strategy: "manual", time: now)
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
    }

    /// Admin-locked, with one open position: a long of 2 BTC for micro_trend.
    func lockedWithOneLong(_ dir: TempDir) async throws -> (FakeFillLog, NIOLockedValueBox<Date>, MindsetService) {
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall)
        #expect(await mindset.catchUp())
        log.append(.buy, 2, at: 100, time: now)
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        return (log, wall, mindset)
    }

    func placed(_ log: FakeFillLog) -> [PlaceOrderRequest] {
        log.placed.withLockedValue { $0 }.sorted { $0.symbol < $1.symbol }
    }

    @Test("admin lock with flatten: each strategy position gets one reduce-only market order for its whole size, on its own strategy; the trader's own stay")
    func flattensStrategyPositions() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall)
        await openPositions(log, mindset)
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty, "not locked: nothing is closed")

        _ = try await mindset.lock(LockRequest(reason: "done for the day", time: nil))
        await mindset.flattenIfLocked()
        let orders = placed(log)
        #expect(orders.count == 2, "\(orders)")
        #expect(orders.allSatisfy { $0.reduceOnly == true && $0.type == .market })
        #expect(orders[0].symbol == "BTCUSDT" && orders[0].side == .sell && orders[0].quantity == 2 && orders[0].strategyId == "micro_trend")
        #expect(orders[1].symbol == "ETHUSDT" && orders[1].side == .buy && orders[1].quantity == ExactDecimal("1.5") && orders[1].strategyId == "mean_reversion")
        #expect(orders.allSatisfy { $0.clientOrderId?.hasPrefix("mf-") == true && ($0.clientOrderId?.utf8.count ?? 99) <= 36 })
        let snapshot = await mindset.snapshot()
        #expect(snapshot.flattenOrders.map(\.outcome) == ["filled", "filled"])
        #expect(snapshot.onLocked == .flatten)
        #expect(snapshot.flattenStuck.isEmpty)

        // The fills closed them: nothing more, even long after.
        wall.withLockedValue { $0 = $0.addingTimeInterval(60) }
        #expect(await mindset.catchUp())
        await mindset.flattenIfLocked()
        #expect(placed(log).count == 2)
    }

    @Test("with routerd's rules, a close is rounded down onto the step (a base-asset commission leaves positions off it), and dust below the minimum is left alone, never stuck")
    func flattenRoundsOntoTheStep() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        log.rules.withLockedValue {
            $0 = [SymbolRules(symbol: "ETHUSDT", baseAsset: "ETH", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.0001, minQuantity: 0.0001,
                              maxQuantity: 9000),
                  SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.001, minQuantity: 0.001,
                              maxQuantity: 9000)]
        }
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall)
        #expect(await mindset.catchUp())
        log.append(.buy, ExactDecimal("0.04995")!, at: 3000, strategy: "mean_reversion", time: now, symbol: "ETHUSDT")
        log.append(.buy, ExactDecimal("0.0005")!, at: 60000, time: now)
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        for _ in 0..<4 {
            await mindset.flattenIfLocked()
            wall.withLockedValue { $0 = $0.addingTimeInterval(600) }
            #expect(await mindset.catchUp())
        }
        let orders = placed(log)
        #expect(orders.map(\.symbol) == ["ETHUSDT"], "no order for 0.0005 BTC, below BTCUSDT's minimum of 0.001: \(orders)")
        #expect(orders.first?.quantity == ExactDecimal("0.0499")!, "0.04995 rounded down onto the step of 0.0001")
        #expect(await mindset.snapshot().flattenStuck.isEmpty)
    }

    @Test("LOCKED with block (the default): positions stay open")
    func blockLeavesPositions() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log, wall: NIOLockedValueBox(now), onLocked: .block)
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty)
        #expect(await mindset.snapshot().onLocked == .block)
    }

    @Test("a limit's lock flattens too (consecutive losses)")
    func limitLockFlattens() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log, wall: NIOLockedValueBox(now)) { $0.maxConsecutiveLosses = 1 }
        #expect(await mindset.catchUp())
        log.append(.buy, 1, at: 100, strategy: "mean_reversion", time: now, symbol: "ETHUSDT")
        log.roundTrip(1, opened: 100, closed: 90, at: now, now)
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
        #expect(await mindset.snapshot().emotionState == "LOCKED")
        await mindset.flattenIfLocked()
        #expect(placed(log).map(\.strategyId) == ["mean_reversion"])
    }

    @Test("a lock that only says the state is unknown (a corrupt state file) never liquidates")
    func unknownStateDoesNotFlatten() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let store = MindsetStore(stateDirectory: dir.file("state"))
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try Data("{corrupt".utf8).write(to: URL(fileURLWithPath: store.statePath))
        log.append(.buy, 3, at: 100, time: now.addingTimeInterval(-90 * 86_400))
        let mindset = service(dir, log, wall: NIOLockedValueBox(now))
        #expect(await mindset.snapshot().emotionState == "LOCKED")
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty)
    }

    @Test("positions from a fill log not read to its end lately are not acted on; once read, they are")
    func staleLogDoesNotFlatten() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall)
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        log.failing.withLockedValue { $0 = true }
        wall.withLockedValue { $0 = $0.addingTimeInterval(10) }
        #expect(await !mindset.catchUp())
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty)
        log.failing.withLockedValue { $0 = false }
        #expect(await mindset.catchUp())
        await mindset.flattenIfLocked()
        #expect(placed(log).count == 2)
    }

    @Test("under a lock for unknown state, a limit reached is recorded and flattens; an admin lock flattens too; both still need the acknowledgment")
    func limitsWatchedUnderUnknownState() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let store = MindsetStore(stateDirectory: dir.file("state"))
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try Data("{corrupt".utf8).write(to: URL(fileURLWithPath: store.statePath))
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall) { $0.maxConsecutiveLosses = 1 }
        #expect(await mindset.catchUp())
        log.append(.buy, 1, at: 100, strategy: "mean_reversion", time: now, symbol: "ETHUSDT")
        log.roundTrip(1, opened: 100, closed: 90, at: now, now)
        #expect(await mindset.catchUp())
        await mindset.markToMarket()
        let state = try #require(try store.loadState())
        #expect(state.lockCause == .limit, "\(state.lockReason ?? "-")")
        #expect(state.acknowledgmentPendingSince != nil)
        await mindset.flattenIfLocked()
        #expect(placed(log).map(\.strategyId) == ["mean_reversion"])
    }

    @Test("a lock for unknown state acknowledged the same day stays LOCKED until the reset and flattens nothing; an admin lock then flattens, and is not lifted by an unlock")
    func acknowledgedUnknownStateDoesNotFlatten() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let store = MindsetStore(stateDirectory: dir.file("state"))
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try Data("{corrupt".utf8).write(to: URL(fileURLWithPath: store.statePath))
        let mindset = service(dir, log, wall: NIOLockedValueBox(now))
        await openPositions(log, mindset)
        _ = try await mindset.unlock(UnlockRequest(reason: "checked the state by hand"))
        let state = try #require(try store.loadState())
        #expect(state.emotion == .locked && state.acknowledgmentPendingSince == nil)
        await mindset.markToMarket()
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty, "an acknowledgment is not a limit reached")
        await #expect(throws: IPCError.self) { _ = try await mindset.unlock(UnlockRequest(reason: "again")) }
        // The admin locks to close the positions: that flattens, as any admin lock does; an unlock cannot talk the day
        // out of the acknowledged lock before the reset.
        _ = try await mindset.lock(LockRequest(reason: "mine", time: nil))
        await mindset.flattenIfLocked()
        #expect(!placed(log).isEmpty, "the admin's lock closes the positions")
        await #expect(throws: IPCError.self) { _ = try await mindset.unlock(UnlockRequest(reason: "lift it")) }
        #expect(try store.loadState()?.emotion == .locked)
    }

    @Test("nothing is sent while routerd's trading is paused; after the resume, it is")
    func pausedRouterStopsFlatten() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        log.equity.withLockedValue { $0 = 100_000 }
        log.tradingEnabled.withLockedValue { $0 = false }
        let mindset = service(dir, log, wall: NIOLockedValueBox(now))
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        await mindset.markToMarket()
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty)
        // An account that cannot be read (venue trouble, often why an operator pauses) is not a resume.
        log.tradingEnabled.withLockedValue { $0 = true }
        log.equity.withLockedValue { $0 = nil }
        await mindset.markToMarket()
        await mindset.flattenIfLocked()
        #expect(placed(log).isEmpty)
        log.equity.withLockedValue { $0 = 100_000 }
        await mindset.markToMarket()
        await mindset.flattenIfLocked()
        #expect(placed(log).count == 2)
    }

    @Test("a working reduce-only order of the position (a resting take-profit) is cancelled before the close; other orders are left")
    func cancelsRestingReduceOnly() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log, wall: NIOLockedValueBox(now))
        await openPositions(log, mindset)
        func resting(_ id: String, reduceOnly: Bool) -> OrderRecord {
            OrderRecord(clientOrderId: id, venue: .paper, symbol: "BTCUSDT", side: .sell, type: .limit, quantity: 2, limitPrice: 120,
                        status: .acknowledged, reduceOnly: reduceOnly, strategyId: "micro_trend", createdAt: now, updatedAt: now)
        }
        log.working.withLockedValue { $0 = [resting("tp-1", reduceOnly: true), resting("other", reduceOnly: false)] }
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        await mindset.flattenIfLocked()
        #expect(log.cancelled.withLockedValue { $0 } == ["tp-1"])
        #expect(placed(log).count == 2)
        let listed = await mindset.snapshot().flattenOrders
        #expect(listed.first { $0.clientOrderId == "tp-1" }?.outcome == "cancel before the close: cancelled")
    }

    @Test("an order that fails is tried again after 5 s, then 10, 20 …; stuck after three; a clock stepped back waits")
    func backsOff() async throws {
        let dir = try TempDir()
        let (log, wall, mindset) = try await lockedWithOneLong(dir)
        log.placeFailing.withLockedValue { $0 = true }
        var sentAt: [Double] = []
        for tenth in stride(from: 0, through: 400, by: 1) {
            let seconds = Double(tenth) / 10
            wall.withLockedValue { $0 = now.addingTimeInterval(seconds) }
            #expect(await mindset.catchUp())
            let before = placed(log).count
            await mindset.flattenIfLocked()
            if placed(log).count > before { sentAt.append(seconds) }
        }
        #expect(sentAt == [0, 5, 15, 35], "\(sentAt)")
        #expect(await mindset.snapshot().flattenStuck == ["micro_trend|BTCUSDT"])
        #expect(await mindset.snapshot().flattenOrders.allSatisfy { $0.outcome.hasPrefix("not placed") })

        // The host's clock goes back an hour: no order at every poll, the wait starts again from the new now.
        for seconds in stride(from: -3_600.0, through: -3_600 + 30, by: 1) {
            wall.withLockedValue { $0 = now.addingTimeInterval(seconds) }
            #expect(await mindset.catchUp())
            await mindset.flattenIfLocked()
        }
        #expect(placed(log).count == 4)
    }

    @Test("an order whose outcome is unknown (a timeout) waits the longest, 5 minutes, before another is sent")
    func uncertainWaitsLongest() async throws {
        let dir = try TempDir()
        let (log, wall, mindset) = try await lockedWithOneLong(dir)
        log.placeError.withLockedValue { $0 = IPCError(.timeout, "no answer") }
        log.placeFailing.withLockedValue { $0 = true }
        await mindset.flattenIfLocked()
        for seconds in [5.0, 60, 299] {
            wall.withLockedValue { $0 = now.addingTimeInterval(seconds) }
            #expect(await mindset.catchUp())
            await mindset.flattenIfLocked()
        }
        #expect(placed(log).count == 1)
        wall.withLockedValue { $0 = now.addingTimeInterval(300) }
        #expect(await mindset.catchUp())
        await mindset.flattenIfLocked()
        #expect(placed(log).count == 2)
    }

    @Test("an unlock while the orders are on their way: the rest are not sent")
    func unlockStopsTheRound() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log, wall: NIOLockedValueBox(now))
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        log.beforePlace.withLockedValue { $0 = { _ = try? await mindset.unlock(UnlockRequest(reason: "back")) } }
        await mindset.flattenIfLocked()
        #expect(placed(log).count == 1)
    }

    @Test("on_locked follows the configuration at each start: block stops flattening at once")
    func onLockedFollowsConfiguration() {
        var engine = MindsetEngine(rules: makeRules { $0.onLocked = .flatten })
        _ = engine.advance(to: utc("2024-03-01T10:00:00Z"))
        #expect(MindsetEngine(rules: makeRules { $0.onLocked = .block }, state: engine.state).rules.onLockedAction == .block)
        #expect(MindsetEngine(rules: makeRules { $0.onLocked = .flatten }, state: engine.state).rules.onLockedAction == .flatten)
    }
}
