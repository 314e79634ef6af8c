import Foundation
import BagbotDomain
import Testing
@testable import ArsenalCore

/// The hand-made sequences with known answers, on the Micro Trend Follower through the runner.
@Suite("runner edges: partial fills, equal timestamps, gaps, wide spreads")
struct RunnerEdgeTests {
    /// A strong, slightly noisy up-trend of 101 ticks: the first entry fires on its last tick.
    private var trend: [Double] {
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 100)
        return path.mids
    }

    @Test("after a partial fill of the entry, the stop and the reversal close exactly what was filled")
    func partialFill() throws {
        let runner = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        let feeder = Feeder(runner)
        let entry = try #require(feeder.feed(trend).first?.signal)
        _ = try runner.onFill(fill(.buy, ExactDecimal("0.004")!, at: entry.price))
        #expect(runner.position(of: "BTCUSDT")?.quantity == ExactDecimal("0.004"))
        // The entry is still in flight (the rest may fill): only the stop may act, sized to what was filled.
        let stop = try #require(feeder.feed(mid: entry.price.doubleValue * 0.994))
        #expect(!stop.isEntry && stop.side == .sell && stop.quantity == ExactDecimal("0.004"))
    }

    @Test("dust below the symbol's minimum quantity (a base-asset commission, an exit rounded down onto the step) counts as flat: no stop for it, the next entry adds to it, the next exit sells it too")
    func dustCountsAsFlat() throws {
        let runner = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        runner.setMinimumQuantity(ExactDecimal("0.0001")!, for: "BTCUSDT")
        let feeder = Feeder(runner)
        let entry = try #require(feeder.feed(trend).first?.signal)
        var buy = fill(.buy, ExactDecimal("0.01")!, at: entry.price, fee: ExactDecimal("0.01")!)
        buy.baseCommission = ExactDecimal("0.00001")!
        _ = try runner.onFill(buy)
        runner.orderEnded(symbol: "BTCUSDT", role: .entry)
        #expect(runner.position(of: "BTCUSDT")?.quantity == ExactDecimal("0.00999"), "what the buy received")
        let stop = try #require(feeder.feed(mid: entry.price.doubleValue * 0.99))
        #expect(!stop.isEntry && stop.quantity == ExactDecimal("0.00999"))
        // The coordinator rounds the exit down onto the step (0.0001): 0.0099 is sold, 0.00009 stays.
        _ = try runner.onFill(fill(.sell, ExactDecimal("0.0099")!, at: stop.price))
        runner.orderEnded(symbol: "BTCUSDT", role: .exit)
        #expect(runner.position(of: "BTCUSDT")?.quantity == ExactDecimal("0.00009"))
        #expect(runner.holds("BTCUSDT") == false)
        #expect(feeder.feed(mid: stop.price.doubleValue * 0.9) == nil, "no stop for what no order can sell")

        var rally = TickPath(start: stop.price.doubleValue * 0.9)
        rally.alternating(0.002, 0.0005, count: 100)
        let second = try #require(feeder.feed(Array(rally.mids.dropFirst())).first?.signal, "a new entry despite the dust")
        #expect(second.isEntry && second.quantity == ExactDecimal("0.01"))
        _ = try runner.onFill(fill(.buy, ExactDecimal("0.01")!, at: second.price))
        runner.orderEnded(symbol: "BTCUSDT", role: .entry)
        let secondStop = try #require(feeder.feed(mid: second.price.doubleValue * 0.99))
        #expect(secondStop.quantity == ExactDecimal("0.01009"), "the dust goes out with the next exit")

        // Without the symbol's rules, nothing is dust: the same 0.00009 would be a position the stop guards.
        let unruled = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        unruled.resync(symbol: "BTCUSDT", position: PositionBook(quantity: ExactDecimal("0.00009")!, cost: ExactDecimal("9")!))
        #expect(unruled.holds("BTCUSDT"))
    }

    @Test("equal timestamps: the windows take every tick, the 100 ms cooldown counts market time, so a second order waits for time to move")
    func equalTimestamps() throws {
        let still = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()), step: 0)
        let first = try #require(still.feed(trend).first)
        #expect(first.index == 100, "the same decision as with 1 s between ticks")
        still.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        var more = TickPath(start: trend.last!)
        more.alternating(0.002, 0.0005, count: 20)
        #expect(still.feed(Array(more.mids.dropFirst())).isEmpty, "every tick at the same instant as the order: cooldown")
    }

    @Test("a gap of minutes between ticks changes nothing: windows are counted in ticks")
    func gapOfMinutes() throws {
        let spaced = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()), step: 600)
        let dense = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()), step: 0.5)
        let a = spaced.feed(trend).map { ($0.index, $0.signal.side, $0.signal.strength) }
        let b = dense.feed(trend).map { ($0.index, $0.signal.side, $0.signal.strength) }
        #expect(a.count == 1 && b.count == 1)
        #expect(a.first?.0 == b.first?.0 && a.first?.1 == b.first?.1 && a.first?.2 == b.first?.2)
    }

    @Test("the venue's fee counts when above fee_rate: the same trend gives no entry at 5 % a side, and the same entries at a fee below fee_rate")
    func venueFeeInTheThreshold() throws {
        let baseline = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())).feed(trend).map(\.index)
        #expect(!baseline.isEmpty, "at fee_rate's 1 bp the trend enters")
        let runner = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        var rules = SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                minQuantity: 0.00001, maxQuantity: 9_000, shortSelling: false)
        rules.feeRate = ExactDecimal("0.05")!
        runner.setSymbolRules(rules)
        #expect(Feeder(runner).feed(trend).isEmpty, "at the venue's 500 bp it does not")
        // A fee below fee_rate changes nothing: the higher of the two counts.
        let lower = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        rules.feeRate = ExactDecimal("0.00001")!
        lower.setSymbolRules(rules)
        #expect(Feeder(lower).feed(trend).map(\.index) == baseline)
        // Nor does a venue fee that moves while staying under fee_rate: the windows are not emptied by a rebuild.
        let moving = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        let feeder = Feeder(moving)
        var indices = feeder.feed(Array(trend.prefix(40))).map(\.index)
        rules.feeRate = ExactDecimal("0.00002")!
        moving.setSymbolRules(rules)
        indices += feeder.feed(Array(trend.dropFirst(40))).map { $0.index + 40 }
        #expect(indices == baseline)
    }

    @Test("a higher fee makes entries rarer, never exits later: the reversal exit comes on the same tick at 1 bp and at 200 bp")
    func feeDoesNotDelayTheExit() throws {
        func exitIndex(venueFee: ExactDecimal?) throws -> Int? {
            let runner = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
            if let venueFee {
                var rules = SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                        minQuantity: 0.00001, maxQuantity: 9_000, shortSelling: false)
                rules.feeRate = venueFee
                runner.setSymbolRules(rules)
            }
            let feeder = Feeder(runner)
            let entry = try #require(feeder.feed(trend).first?.signal)
            _ = try runner.onFill(fill(.buy, ExactDecimal("0.01")!, at: entry.price))
            runner.orderEnded(symbol: "BTCUSDT", role: .entry)
            // Up a long way more (far from the stop), then a steady slide back: momentum turns against the position.
            var path = TickPath(start: trend.last!)
            path.alternating(0.002, 0.0005, count: 100)
            path.alternating(-0.0006, 0, count: 300)
            return feeder.feed(Array(path.mids.dropFirst())).first { !$0.signal.isEntry }?.index
        }
        let cheap = try exitIndex(venueFee: nil)
        #expect(cheap != nil, "the slide closes the position")
        #expect(try exitIndex(venueFee: ExactDecimal("0.02")!) == cheap)
    }

    @Test("no volatility floor, zero spread: a steady slide against a long still closes it, with a finite strength")
    func zeroBandStaysFinite() {
        var logic = MicroTrendFollower(settings: microTrendSettings { $0.tuning.minVolatility = 0 })
        var price = 100.0
        var exits: [Double] = []
        for index in 0..<300 {
            price *= 0.9999  // the same return every tick: no volatility at all
            let quote = Quote(bid: price, ask: price, time: epoch.addingTimeInterval(Double(index)))
            if let intent = logic.onQuote(quote, holding: .long), intent.action == .exit { exits.append(intent.strength) }
        }
        #expect(!exits.isEmpty && exits.allSatisfy(\.isFinite), "\(exits.prefix(3))")
    }

    @Test("a spread wider than the move: the threshold includes it, so the same trend gives no entry")
    func spreadWiderThanTheMove() {
        let wide = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var signals: [Signal] = []
        for mid in trend { if let signal = wide.feed(mid: mid, spread: 0.2) { signals.append(signal) } }
        #expect(signals.isEmpty)
    }
}
