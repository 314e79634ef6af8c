import Foundation
import Logging
import BagbotDomain
import BagbotRuntime
import Testing
@testable import ArsenalCore



/// A value behind a lock, for fakes that the coordinator actor and the test both touch.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    @discardableResult
    func update<T>(_ body: (inout Value) throws -> T) rethrows -> T { try lock.withLock { try body(&value) } }
}


let epoch = Date(timeIntervalSince1970: 1_700_000_000)

/// A quote tick around `mid` with a relative spread of 1e-5 (0.1 bp), prices with 8 decimals.
func tick(_ symbol: String = "BTCUSDT", mid: Double, at seconds: Double, spread: Double = 1e-5, sequence: UInt64 = 0) -> Tick {
    let half = mid * spread / 2
    return Tick(symbol: symbol, time: epoch.addingTimeInterval(seconds), bid: (mid - half).exact, ask: (mid + half).exact, last: mid.exact,
                volume: 1, sequence: sequence, source: "test")
}

extension Double {
    /// The nearest decimal with 8 decimals, for prices a test computes in floating point.
    var exact: ExactDecimal { ExactDecimal(rounding: self, scale: 8, rounding: .halfEven)!.normalized }
}

func fill(_ side: Side, _ quantity: ExactDecimal, at price: ExactDecimal, fee: ExactDecimal = 0, symbol: String = "BTCUSDT",
          strategy: String? = "micro_trend", sequence: Int64? = nil, seconds: Double = 0, id: String = UUID().uuidString) -> Fill {
    Fill(fillId: id, clientOrderId: "bb-\(id)", venue: .paper, symbol: symbol, side: side, quantity: quantity, price: price,
         fee: fee, time: epoch.addingTimeInterval(seconds), strategyId: strategy, requestId: "req-\(id)", sequence: sequence)
}

typealias MicroTrendSettings = StrategySettings<MicroTrendFollower.Tuning>

func microTrendSettings(_ change: (inout MicroTrendSettings) -> Void = { _ in }) -> MicroTrendSettings {
    var settings = MicroTrendSettings()
    settings.basics.symbols = ["BTCUSDT"]
    settings.basics.baseQuantity = ["BTCUSDT": 0.01]
    change(&settings)
    return settings
}

extension StrategyPositionsResponse {
    /// A snapshot of the one database these tests run against.
    init(positions: [StrategyPosition], throughSequence: Int64) {
        self.init(positions: positions, throughSequence: throughSequence, databaseId: "test-db")
    }
}

extension StrategyPosition {
    /// A position opened at `averagePrice` with no fees.
    init(strategyId: String, symbol: String, quantity: ExactDecimal, averagePrice: ExactDecimal) {
        self.init(strategyId: strategyId, symbol: symbol, book: PositionBook(quantity: quantity, cost: try! quantity.magnitude.times(averagePrice)))
    }
}

extension TradeCoordinator {
    /// A tick decided as the live tick loop does, its entry queued beside the loop; `thenResync`, when given, is read
    /// between the decision and the queueing (as a resync that came while the tick's exits were being sent).
    /// `thenDecide`, when given, makes a tick decided in between too (its exit holds its role; it is not sent).
    func decideAndQueue(_ tick: Tick, thenResync snapshot: StrategyPositionsResponse? = nil,
                        thenDecide later: (@Sendable () -> Tick)? = nil) async {
        let decidedAt = catchUpCount
        let outgoing = decide(tick)
        if let snapshot { _ = resync(snapshot) }
        if let later { _ = decide(later()) }
        await sendBesideTheLoop(outgoing, quote: tick.sequence, decidedAt: decidedAt)
    }
}
