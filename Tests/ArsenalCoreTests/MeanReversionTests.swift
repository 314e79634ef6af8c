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

/// 20 ticks alternating 100.00 / 100.02: a full window with mean 100.01 and a standard deviation of 0.01.
let calmWindow = (0..<20).map { $0 % 2 == 0 ? 100.00 : 100.02 }

@Suite("MeanReversion")
struct MeanReversionTests {
    @Test("a drop of about 3.5 standard deviations is a buy toward the mean; back near the mean, the whole long is sold")
    func stretchDownThenRevert() throws {
        let feeder = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        #expect(feeder.feed(calmWindow).isEmpty)
        // The window now holds 19 calm mids and 99.95: mean ≈ 100.007, deviation ≈ 0.0163, z ≈ −3.5.
        let entry = try #require(feeder.feed(mid: 99.95))
        #expect(entry.side == .buy && entry.isEntry && entry.quantity == 0.01)
        #expect(entry.strategyId == "mean_reversion")
        #expect(abs(entry.strength - 3.5 / 2) < 0.05, "strength \(entry.strength)")
        #expect(entry.reason.hasPrefix("z-score -3.5"), "\(entry.reason)")

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
        let entry = try #require(feeder.feed(mid: 100.07))
        #expect(entry.side == .sell && entry.isEntry)
    }

    @Test("holding while the price runs further away: no exit from the logic, and the stop closes at −1 %")
    func runsAwayUntilTheStop() throws {
        let feeder = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        feeder.feed(calmWindow)
        let entry = try #require(feeder.feed(mid: 99.95))
        _ = try feeder.strategy.onFill(fill(.buy, 0.01, at: entry.price, strategy: "mean_reversion"))
        feeder.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        // Falling, the price stays below the mean: the long is held until it is 1 % (the default stop) under water.
        let path = stride(from: 99.90, through: 98.90, by: -0.05).map { $0 }
        let signals = feeder.feed(path)
        let stop = try #require(signals.first)
        #expect(signals.count == 1)
        #expect(stop.signal.side == .sell && !stop.signal.isEntry && stop.signal.strength == 10)
        #expect(stop.signal.reason.hasPrefix("stop loss"))
        let stopPrice = path[stop.index]
        #expect((stopPrice - 99.95) / 99.95 <= -0.01)
        #expect((path[stop.index - 1] - 99.95) / 99.95 > -0.01)
    }

    @Test("nothing moves, or the spread is wider than the stretch: no entry")
    func deadOrTooCostly() {
        let flat = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        #expect(flat.feed([Double](repeating: 100, count: 60)).isEmpty)

        let quiet = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings { $0.tuning.minVolatility = 0.001 }))
        quiet.feed(calmWindow)
        #expect(quiet.feed(mid: 99.95) == nil, "a deviation of 0.0163 on 100 is below min_volatility 0.001")

        let wide = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()))
        for mid in calmWindow { wide.feed(mid: mid, spread: 0.002) }
        #expect(wide.feed(mid: 99.95, spread: 0.002) == nil, "0.057 from the mean does not pay a 0.2 % spread plus costs")
    }

    @Test("a gap of minutes and equal timestamps change nothing in the logic; equal timestamps meet the cooldown")
    func gapsAndEqualTimestamps() throws {
        let gapped = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()), step: 600)
        gapped.feed(calmWindow)
        #expect(gapped.feed(mid: 99.95)?.side == .buy)

        let same = Feeder(StrategyRunner<MeanReversion>(settings: meanReversionSettings()), step: 0)
        same.feed(calmWindow)
        let entry = try #require(same.feed(mid: 99.95))
        same.strategy.orderEnded(symbol: "BTCUSDT", role: .entry)
        #expect(same.feed(mid: 99.94) == nil, "the 100 ms cooldown: the entry's own timestamp")
        #expect(entry.isEntry)
    }

    @Test("disabled: no entry, but an open position is still exited and still stopped")
    func disabledStillExits() throws {
        let strategy = StrategyRunner<MeanReversion>(settings: meanReversionSettings { $0.basics.enabled = false })
        let feeder = Feeder(strategy)
        feeder.feed(calmWindow)
        #expect(feeder.feed(mid: 99.95) == nil)
        _ = try strategy.onFill(fill(.buy, 0.01, at: 99.95, strategy: "mean_reversion"))
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
    }
}
