import Foundation
import BagbotDomain
import Testing
@testable import ArsenalCore

func meanReversionSettings(_ change: (inout StrategySettings<MeanReversion.Tuning>) -> Void = { _ in }) -> StrategySettings<MeanReversion.Tuning> {
    var settings = StrategySettings<MeanReversion.Tuning>()
    settings.basics.enabled = true
    settings.basics.symbols = ["BTCUSDT"]
    settings.basics.baseQuantity = ["BTCUSDT": 0.01]
    settings.tuning.window = 20
    change(&settings)
    return settings
}

/// 20 ticks alternating 99.98 / 100.04: a full window with mean 100.01 and a standard deviation of 0.03.
let calmWindow = (0..<20).map { $0 % 2 == 0 ? 99.98 : 100.04 }

@Suite("MeanReversion")
struct MeanReversionTests {
    @Test("a drop of 2.33 standard deviations below the window's mean is a buy toward it; back near the mean, the whole long is sold")
    func stretchDownThenRevert() throws {
        let feeder = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        #expect(feeder.feed(calmWindow).isEmpty)
        // Against the 20 mids before it (mean 100.01, deviation 0.03): z = −0.07 / 0.03 = −2.33.
        let entry = try #require(feeder.feed(mid: 99.94))
        #expect(entry.side == .buy && entry.isEntry && entry.quantity == 0.01)
        #expect(entry.strategyId == "mean_reversion")
        #expect(abs(entry.strength - 7.0 / 3 / 2) < 0.001, "strength \(entry.strength)")
        #expect(entry.reason.hasPrefix("z-score -2.33"), "\(entry.reason)")

        _ = try feeder.strategy.onFill(fill(.buy, 0.01, at: entry.price, strategy: "mean_reversion"))
        feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        let exit = try #require(feeder.feed(mid: 100.01))
        #expect(exit.side == .sell && !exit.isEntry && exit.quantity == 0.01)
        #expect(exit.reason.contains("back within ±0.5"), "\(exit.reason)")
    }

    @Test("a jump up is a sell entry (a short, where the venue allows it)")
    func stretchUp() throws {
        let feeder = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        feeder.feed(calmWindow)
        let entry = try #require(feeder.feed(mid: 100.08))
        #expect(entry.side == .sell && entry.isEntry)
    }

    @Test("holding while the price runs further away: no exit from the logic, the stop closes at −1 %, and the runaway is not faded again until the price comes back")
    func runsAwayUntilTheStop() throws {
        let feeder = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        feeder.feed(calmWindow)
        let entry = try #require(feeder.feed(mid: 99.94))
        _ = try feeder.strategy.onFill(fill(.buy, 0.01, at: entry.price, strategy: "mean_reversion"))
        feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        let entryPrice = entry.price.doubleValue
        // Falling, the price stays below the mean: the long is held until it is 1 % (the default stop) under water.
        let path = stride(from: 99.90, through: 98.90, by: -0.05).map { $0 }
        let signals = feeder.feed(path)
        let stop = try #require(signals.first)
        #expect(signals.count == 1)
        #expect(stop.signal.side == .sell && !stop.signal.isEntry && stop.signal.strength == 10)
        #expect(stop.signal.reason.hasPrefix("stop loss"))
        #expect((path[stop.index] - entryPrice) / entryPrice <= -0.01)
        #expect((path[stop.index - 1] - entryPrice) / entryPrice > -0.01)

        _ = try feeder.strategy.onFill(fill(.sell, 0.01, at: stop.signal.price, strategy: "mean_reversion"))
        feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .exit)
        // Flat, falling faster: z −2.06 … −2.44, past the entry band, yet the runaway is not faded again…
        let further = [98.78, 98.66, 98.54, 98.42, 98.30]
        #expect(feeder.feed(further).isEmpty)
        // …until the price has been back inside the exit band: then a new stretch is faded again.
        let window = (0..<20).map { $0 % 2 == 0 ? 98.27 : 98.33 }
        feeder.feed(window)
        #expect(feeder.feed(mid: 98.23)?.side == .buy)
    }

    @Test("a jump after a quiet spell is a breakout, not a stretch: no entry beyond max_z, none against a still window")
    func breakoutsAreNotFaded() {
        let still = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        still.feed([Double](repeating: 1.1000, count: 20))
        #expect(still.feed(mid: 1.1010) == nil, "no deviation before the jump: no z-score")

        let calm = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        calm.feed(calmWindow)
        #expect(calm.feed(mid: 100.20) == nil, "z = 6.3, beyond max_z 4")
        // Held out there, the jump widens the window and z falls under max_z (3.55 on the next tick): still a
        // breakout, not a stretch, until the price has been back near the mean.
        #expect(calm.feed([Double](repeating: 100.20, count: 10)).isEmpty)
    }

    @Test("nothing moves, or the spread is wider than the stretch: no entry")
    func deadOrTooCostly() {
        let flat = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        #expect(flat.feed([Double](repeating: 100, count: 60)).isEmpty)

        let quiet = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings { $0.tuning.minVolatility = 0.001 }))
        quiet.feed(calmWindow)
        #expect(quiet.feed(mid: 99.94) == nil, "a deviation of 0.03 on 100 is below min_volatility 0.001")

        let wide = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        for mid in calmWindow { wide.feed(mid: mid, spread: 0.002) }
        #expect(wide.feed(mid: 99.94, spread: 0.002) == nil, "0.07 from the mean does not pay a 0.2 % spread plus costs")
    }

    @Test("a gap of minutes and equal timestamps change nothing in the logic; equal timestamps meet the cooldown")
    func gapsAndEqualTimestamps() throws {
        let gapped = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()), step: 600)
        gapped.feed(calmWindow)
        #expect(gapped.feed(mid: 99.94)?.side == .buy)

        let same = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()), step: 0)
        same.feed(calmWindow)
        let entry = try #require(same.feed(mid: 99.94))
        same.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        #expect(same.feed(mid: 99.93) == nil, "the 100 ms cooldown: the entry's own timestamp")
        #expect(entry.isEntry)
    }

    @Test("disabled: no entry, but an open position is still exited and still stopped")
    func disabledStillExits() throws {
        let strategy = StrategyRunner<MeanReversion>(settings: meanReversionSettings { $0.basics.enabled = false })
        let feeder = Feeder(strategy)
        feeder.feed(calmWindow)
        #expect(feeder.feed(mid: 99.94) == nil)
        _ = try strategy.onFill(fill(.buy, 0.01, at: 99.94, strategy: "mean_reversion"))
        let exit = try #require(feeder.feed(mid: 100.01))
        #expect(exit.side == .sell && !exit.isEntry)
    }

    @Test("the defaults: registered but off, a 1 % stop, exit band inside the entry band")
    func defaults() {
        let settings = StrategySettings<MeanReversion.Tuning>()
        #expect(!settings.basics.enabled)
        #expect(settings.basics.stopLossPercent == 1)
        #expect(settings.problem() == nil)
        var crossed = settings
        crossed.tuning.exitZ = 2.5
        #expect(crossed.problem()?.parameter == "exit_z")
        var capped = settings
        capped.tuning.maxZ = 1.5
        #expect(capped.problem()?.parameter == "max_z")
    }
}
