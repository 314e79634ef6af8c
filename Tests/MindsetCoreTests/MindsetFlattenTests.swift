import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

/// `on_locked: flatten`: while LOCKED, mindsetd closes the open positions with reduce-only market orders
/// (docs/mindset.md, "Flatten on LOCKED").
@Suite("mindsetd flattens open positions on LOCKED when configured")
struct MindsetFlattenTests {
    let now = Date()

    func service(_ dir: TempDir, _ log: FakeFillLog, wall: NIOLockedValueBox<Date>, onLocked: MindsetSettings.LockedAction) -> MindsetService {
        MindsetService(rules: makeRules { $0.onLocked = onLocked }, store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                       ledger: log, flattenRetry: 5, wallClock: { wall.withLockedValue { $0 } })
    }

    /// A long of 2 BTC for the strategy and a short of 1.5 ETH of the trader's own (no strategy), counted.
    func openPositions(_ log: FakeFillLog, _ mindset: MindsetService) async {
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 2, at: 100, time: now)
        log.append(.sell, ExactDecimal("1.5")!, at: 50, strategy: nil, time: now, symbol: "ETHUSDT")
        #expect(await mindset.catchUp())
    }

    @Test("LOCKED with flatten: every open position gets one reduce-only market order for its whole size, on its own strategy")
    func flattensEveryPosition() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall, onLocked: .flatten)
        await openPositions(log, mindset)
        await mindset.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.isEmpty, "not locked: nothing is closed")

        _ = try await mindset.lock(LockRequest(reason: "done for the day", time: nil))
        await mindset.flattenIfLocked()
        let orders = log.placed.withLockedValue { $0 }.sorted { $0.symbol < $1.symbol }
        #expect(orders.count == 2)
        #expect(orders.allSatisfy { $0.reduceOnly == true && $0.type == .market })
        #expect(orders.map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
        #expect(orders[0].side == .sell && orders[0].quantity == 2 && orders[0].strategyId == "micro_trend")
        #expect(orders[1].side == .buy && orders[1].quantity == ExactDecimal("1.5") && orders[1].strategyId == nil)
        #expect(orders.allSatisfy { $0.clientOrderId?.hasPrefix("mf-") == true && ($0.clientOrderId?.utf8.count ?? 99) <= 36 })
        let snapshot = await mindset.snapshot()
        #expect(snapshot.flattenOrders.map(\.outcome) == ["filled", "filled"])
        #expect(snapshot.onLocked == .flatten)

        // The fills closed them: nothing more, even after the retry interval.
        #expect(await mindset.catchUp())
        wall.withLockedValue { $0 = $0.addingTimeInterval(10) }
        await mindset.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.count == 2)
    }

    @Test("LOCKED with block (the default): positions stay open")
    func blockLeavesPositions() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let mindset = service(dir, log, wall: NIOLockedValueBox(now), onLocked: .block)
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        await mindset.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.isEmpty)
        #expect(await mindset.snapshot().onLocked == .block)
    }

    @Test("an order that fails is tried again after the retry interval, not before, while the position stays open")
    func retriesAfterInterval() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let mindset = service(dir, log, wall: wall, onLocked: .flatten)
        await openPositions(log, mindset)
        _ = try await mindset.lock(LockRequest(reason: "stop", time: nil))
        log.placeFailing.withLockedValue { $0 = true }
        await mindset.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.count == 2)
        #expect(await mindset.snapshot().flattenOrders.allSatisfy { $0.outcome.hasPrefix("not placed") })

        wall.withLockedValue { $0 = $0.addingTimeInterval(4.9) }
        await mindset.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.count == 2, "within the retry interval")

        log.placeFailing.withLockedValue { $0 = false }
        wall.withLockedValue { $0 = $0.addingTimeInterval(0.2) }
        await mindset.flattenIfLocked()
        let placed = log.placed.withLockedValue { $0 }
        #expect(placed.count == 4)
        #expect(Set(placed.compactMap(\.clientOrderId)).count == 4, "each attempt is a new order id: routerd's reduce-only check stops an overshoot")
    }

    @Test("a limit's lock flattens too, and a restart while LOCKED goes on flattening")
    func limitLockAndRestart() async throws {
        let dir = try TempDir()
        let log = FakeFillLog()
        let wall = NIOLockedValueBox(now)
        let first = service(dir, log, wall: wall, onLocked: .flatten)
        await openPositions(log, first)
        _ = try await first.lock(LockRequest(reason: "stop", time: nil))
        let second = service(dir, log, wall: wall, onLocked: .flatten)
        #expect(await second.snapshot().emotionState == "LOCKED")
        await second.flattenIfLocked()
        #expect(log.placed.withLockedValue { $0 }.count == 2)
    }

    @Test("locked settings: flatten set mid-day applies at once; block set mid-day waits for the reset")
    func onLockedIsLockedWithTheDay() {
        var engine = MindsetEngine(rules: makeRules { $0.onLocked = .flatten })
        _ = engine.advance(to: utc("2024-03-01T10:00:00Z"))
        let restartedBlock = MindsetEngine(rules: makeRules { $0.onLocked = .block }, state: engine.state)
        #expect(restartedBlock.rules.onLockedAction == .flatten)
        var blockDay = MindsetEngine(rules: makeRules { $0.onLocked = .block })
        _ = blockDay.advance(to: utc("2024-03-01T10:00:00Z"))
        var restartedFlatten = MindsetEngine(rules: makeRules { $0.onLocked = .flatten }, state: blockDay.state)
        #expect(restartedFlatten.rules.onLockedAction == .flatten)
        var nextDay = restartedBlock
        _ = nextDay.advance(to: utc("2024-03-02T10:00:00Z"))
        #expect(nextDay.rules.onLockedAction == .block)
        _ = restartedFlatten.advance(to: utc("2024-03-02T10:00:00Z"))
        #expect(restartedFlatten.rules.onLockedAction == .flatten)
    }
}
