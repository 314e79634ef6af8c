import Foundation
import BagbotDomain
import Testing
@testable import ArsenalCore

/// Builds mid-price paths from per-tick returns and feeds them to a strategy, one tick per `step` seconds.
struct TickPath {
    var mids: [Double]
    init(start: Double) { mids = [start] }

    mutating func returns(_ values: [Double]) {
        for value in values { mids.append(mids.last! * (1 + value)) }
    }

    mutating func alternating(_ first: Double, _ second: Double, count: Int) {
        returns((0..<count).map { $0 % 2 == 0 ? first : second })
    }
}

final class Feeder<Logic: StrategyLogic> {
    let strategy: StrategyRunner<Logic>
    var time = 0.0
    let step: Double
    private var counter = 0

    init(_ strategy: StrategyRunner<Logic>, step: Double = 1) {
        self.strategy = strategy
        self.step = step
    }

    @discardableResult
    func feed(mid: Double, symbol: String = "BTCUSDT", spread: Double = 1e-5) -> Signal? {
        defer { time += step }
        return strategy.onTick(tick(symbol, mid: mid, at: time, spread: spread)) { [self] in
            counter += 1
            return "req-\(counter)"
        }
    }

    /// Feeds every mid; returns the index and signal of each signal produced.
    func feed(_ mids: [Double]) -> [(index: Int, signal: Signal)] {
        var signals: [(Int, Signal)] = []
        for (index, mid) in mids.enumerated() {
            if let signal = feed(mid: mid) { signals.append((index, signal)) }
        }
        return signals
    }
}

/// 101 ticks of quiet two-way noise around 100 (returns of about ±0.01 %): fills both default windows
/// (50 and 100 returns) without a signal.
func quietMids(count: Int = 101) -> [Double] {
    (0..<count).map { $0 % 2 == 0 ? 100.00 : 100.01 }
}

@Suite("MicroTrendFollower")
struct MicroTrendFollowerTests {
    @Test("no signal before both windows are full; a strong up-move from flat then gives a buy entry")
    func firstSignalWhenWindowsFull() throws {
        let settings = microTrendSettings()
        #expect(settings.tuning.momentumWindow == 50)
        #expect(settings.tuning.volatilityWindow == 100)
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: settings))
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 100) // 101 ticks, a strong and slightly noisy trend

        let signals = feeder.feed(path.mids)
        // Tick 101 is the first with 100 returns; a trend this strong fires at once.
        #expect(signals.count == 1)
        let (index, signal) = try #require(signals.first)
        #expect(index == 100)
        #expect(signal.side == .buy)
        #expect(signal.isEntry)
        #expect(signal.strength >= 1)
        #expect(signal.quantity == 0.01)
        #expect(signal.symbol == "BTCUSDT")
        #expect(signal.strategyId == "micro_trend")
        let last = tick(mid: path.mids[100], at: 100)
        #expect(signal.price == last.ask)
        #expect(signal.time == last.time)
        #expect(signal.confidence == 0.5)
        #expect(signal.requestId == "req-1")
        #expect(signal.reason.contains("momentum"))
        // A signal is an intention: the position only follows fills.
        #expect(feeder.strategy.position(of: "BTCUSDT")?.isFlat == true)
        #expect(feeder.strategy.info().signals == 1)
    }

    @Test("a strong down-move from flat gives a sell entry")
    func sellEntry() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var path = TickPath(start: 100)
        path.alternating(-0.002, -0.0005, count: 100)
        let signal = try #require(feeder.feed(path.mids).first?.signal)
        #expect(signal.side == .sell)
        #expect(signal.isEntry)
        #expect(signal.strength >= 1)
        #expect(signal.price == tick(mid: path.mids[100], at: 100).bid)
    }

    @Test("no new signal while an order is in flight, until orderEnded")
    func oneOrderInFlight() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 150)
        let first = feeder.feed(Array(path.mids[0...100]))
        #expect(first.count == 1)
        // The trend goes on, the order is still out: nothing.
        #expect(feeder.feed(Array(path.mids[101...150])).isEmpty)

        feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        var more = path
        more.alternating(0.002, 0.0005, count: 1)
        let next = try #require(feeder.feed(mid: more.mids.last!))
        #expect(next.side == .buy)
        #expect(next.requestId == "req-2")
        // orderEnded for another symbol frees nothing here.
        feeder.strategy.orderEnded(symbol: "EURUSD", role: .entry)
        more.alternating(0.002, 0.0005, count: 1)
        #expect(feeder.feed(mid: more.mids.last!) == nil)
    }

    @Test("a dead market (no movement, or a perfectly smooth drift) gives nothing")
    func deadMarket() {
        let flat = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        #expect(flat.feed(Array(repeating: 100.0, count: 400)).isEmpty)

        // A smooth drift would beat the costs on momentum alone (50 × 0.001 % > 0.041 %), but its volatility is
        // zero: the filter must skip it.
        let smooth = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var path = TickPath(start: 100)
        path.returns(Array(repeating: 0.00001, count: 400))
        #expect(smooth.feed(path.mids).isEmpty)
    }

    @Test("a chaotic market (volatility above the maximum) gives no entry")
    func chaoticMarket() {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var path = TickPath(start: 100)
        path.alternating(0.04, -0.02, count: 300) // σ = 3 % per tick, strongly trending
        #expect(feeder.feed(path.mids).isEmpty)
    }

    @Test("a long is stopped out at −0.5 % (isEntry false), not before", arguments: [Side.buy, Side.sell])
    func stopLoss(entrySide: Side) throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        #expect(feeder.feed(quietMids()).isEmpty)
        let entry = 100.0
        #expect(try feeder.strategy.onFill(fill(entrySide, 0.01, at: entry.exact)) == nil)
        let direction = entrySide == .buy ? 1.0 : -1.0

        // −0.3 % against the position: neither a stop nor a strong enough reversal.
        #expect(feeder.feed(mid: entry * (1 - direction * 0.003)) == nil)

        let stop = try #require(feeder.feed(mid: entry * (1 - direction * 0.0055)))
        #expect(stop.side == entrySide.opposite)
        #expect(!stop.isEntry)
        #expect(stop.quantity == 0.01)
        #expect(stop.reason.contains("stop loss"))
        #expect(stop.strength >= 1)
    }

    @Test("the stop loss fires even in a market too chaotic to trade")
    func stopLossInChaos() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings { $0.tuning.maxVolatility = 0.0005 }))
        var path = TickPath(start: 100)
        path.alternating(0.004, -0.004, count: 100) // σ = 0.4 %, above the maximum
        #expect(feeder.feed(path.mids).isEmpty)
        let mid = path.mids.last!
        _ = try feeder.strategy.onFill(fill(.buy, 0.01, at: mid.exact))
        let stop = try #require(feeder.feed(mid: mid * 0.99))
        #expect(stop.side == .sell)
        #expect(!stop.isEntry)
    }

    @Test("a position restored after a restart is protected by the stop before the windows refill")
    func stopLossAfterResync() {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        feeder.strategy.resync(symbol: "BTCUSDT", position: PositionBook(quantity: 0.01, cost: 1))
        let signals = feeder.feed([99.9, 99.2, 98.5, 97.0])
        #expect(!signals.isEmpty, "a long 3 % under water must be stopped out, history or not")
        #expect(signals.first?.signal.isEntry == false)
        #expect(signals.first?.signal.side == .sell)
    }

    @Test("a strong down move closes a long (reversal), before the stop is reached")
    func reversalClosesLong() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        #expect(feeder.feed(quietMids()).isEmpty)
        _ = try feeder.strategy.onFill(fill(.buy, 0.01, at: 100))
        var path = TickPath(start: 100)
        path.returns(Array(repeating: -0.0005, count: 9))
        let signals = feeder.feed(Array(path.mids.dropFirst()))
        let (index, signal) = try #require(signals.first)
        #expect(signal.side == .sell)
        #expect(!signal.isEntry)
        #expect(signal.quantity == 0.01)
        #expect(signal.reason.contains("opposite"))
        #expect(!signal.reason.contains("stop"))
        #expect(signal.strength >= 1)
        // It came on a down move smaller than the stop distance.
        #expect(path.mids[index + 1] > 99.5)
    }

    @Test("the position follows fills; closed trades carry the realised P&L after fees")
    func positionFollowsFills() throws {
        let strategy = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        #expect(try strategy.onFill(fill(.buy, 0.01, at: 100, fee: 0.001, seconds: 5)) == nil)
        let open = try #require(strategy.position(of: "BTCUSDT"))
        #expect(open.quantity == 0.01)
        #expect(open.averagePrice == 100)

        let close = fill(.sell, 0.01, at: 110, fee: 0.0011, seconds: 9, id: "close-1")
        let trade = try #require(try strategy.onFill(close))
        #expect(trade.strategyId == "micro_trend")
        #expect(trade.symbol == "BTCUSDT")
        #expect(trade.side == .buy)
        #expect(trade.quantity == 0.01)
        #expect(trade.entryPrice == 100)
        #expect(trade.exitPrice == 110)
        #expect(trade.pnl == 0.0979)
        #expect(trade.closedAt == close.time)
        #expect(trade.requestId == close.requestId)
        #expect(trade.tradeId == close.fillId, "the closing fill's id identifies the trade, so a resend is not counted twice")
        #expect(strategy.position(of: "BTCUSDT")?.isFlat == true)

        let info = strategy.info()
        #expect(info.fills == 2)
        #expect(info.trades == 1)
        #expect(info.wins == 1)
        #expect(info.realizedPnl == 0.0979)
        #expect(info.positions == ["BTCUSDT": 0])
        #expect(abs(strategy.stats.confidence - 2.0 / 3.0) < 1e-12)

        // A losing trade.
        _ = try strategy.onFill(fill(.sell, 0.02, at: 100))
        let loss = try #require(try strategy.onFill(fill(.buy, 0.02, at: 101)))
        #expect(loss.side == .sell)
        #expect(loss.pnl == -0.02)
        #expect(strategy.info().trades == 2)
        #expect(strategy.info().wins == 1)

        // Fills for symbols the strategy does not trade change nothing.
        #expect(try strategy.onFill(fill(.buy, 1, at: 1.1, symbol: "EURUSD")) == nil)
        #expect(strategy.info().fills == 4)
    }

    @Test("resync replaces the position and frees the symbol")
    func resync() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 102)
        #expect(feeder.feed(Array(path.mids[0...100])).count == 1)
        feeder.strategy.resync(symbol: "BTCUSDT", position: PositionBook(quantity: -0.03, cost: 2.94))
        #expect(feeder.strategy.position(of: "BTCUSDT")?.quantity == -0.03)
        #expect(feeder.strategy.position(of: "BTCUSDT")?.averagePrice == 98)
        // Free again, and short into a strong up-move: the next tick closes the short.
        let signal = try #require(feeder.feed(mid: path.mids[101]))
        #expect(signal.side == .buy)
        #expect(!signal.isEntry)
        #expect(signal.quantity == 0.03)
    }

    @Test("disabled, unknown-symbol and invalid ticks give nothing")
    func ignoredTicks() {
        let strategy = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings { $0.basics.enabled = false })
        #expect(!strategy.isEnabled)
        let feeder = Feeder(strategy)
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 150)
        #expect(feeder.feed(path.mids).isEmpty)
        #expect(strategy.info().enabled == false)

        let other = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings())
        var produced = 0
        for (index, mid) in path.mids.enumerated() {
            let t = Double(index)
            let good = tick(mid: mid, at: t)
            var crossed = good
            crossed.bid = good.ask
            crossed.ask = good.bid
            var zero = good
            zero.bid = 0
            for bad in [tick("ETHUSDT", mid: mid, at: t), crossed, zero] {
                if other.onTick(bad, requestId: { "x" }) != nil { produced += 1 }
            }
        }
        #expect(produced == 0)
        // None of those ticks went into the windows: the real feed still needs 101 ticks.
        let fresh = Feeder(other)
        let signals = fresh.feed(path.mids)
        #expect(signals.first?.index == 100)
    }

    @Test("the order guardrails hold: ≥ 100 ms between signals and at most 20 in any 60 s")
    func guardrails() throws {
        let feeder = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()), step: 0.05)
        var path = TickPath(start: 100)
        path.alternating(0.002, 0.0005, count: 100 + 2_400) // two minutes of ticks every 50 ms after warm-up
        var times: [Date] = []
        for mid in path.mids {
            if let signal = feeder.feed(mid: mid) {
                times.append(signal.time)
                feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .entry) // filled at once, ready for the next
            }
        }
        #expect(times.count >= 40)
        for index in 1..<times.count {
            #expect(times[index].timeIntervalSince(times[index - 1]) >= 0.1 - 1e-9)
        }
        for index in 20..<times.count {
            #expect(times[index].timeIntervalSince(times[index - 20]) >= 60 - 1e-9)
        }
        // The first 20 go out as fast as the cooldown allows (the next tick at or after 100 ms; ticks are 50 ms apart
        // and times at exactly 100 ms may round either way).
        for index in 1..<20 {
            #expect(times[index].timeIntervalSince(times[index - 1]) < 0.15 + 1e-6)
        }
    }

    @Test("decisions depend only on the windows, not on how much history came before")
    func boundedHistory() throws {
        func mid(_ index: Int) -> Double { index % 2 == 0 ? 100.00 : 100.01 }
        var trend = TickPath(start: 100)
        trend.returns(Array(repeating: 0.0005, count: 30))
        let tail = Array(trend.mids.dropFirst())

        let long = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        #expect(long.feed((0..<20_000).map(mid)).isEmpty)
        let longSignals = long.feed(tail)

        let short = Feeder(StrategyRunner<MicroTrendFollower>(settings: microTrendSettings()))
        #expect(short.feed((19_899..<20_000).map(mid)).isEmpty)
        let shortSignals = short.feed(tail)

        let a = try #require(longSignals.first)
        let b = try #require(shortSignals.first)
        #expect(a.index == b.index)
        #expect(abs(a.signal.strength - b.signal.strength) < 1e-6 * b.signal.strength)
        #expect(a.signal.side == b.signal.side)
    }
}
