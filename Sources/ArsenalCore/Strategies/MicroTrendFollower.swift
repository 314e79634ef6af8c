import Foundation
import BagbotDomain

/// The Micro Trend Follower as the registry runs it.
public final class MicroTrendStrategy: RegisteredStrategy {
    public let runner: StrategyRunner<MicroTrendFollower>
    public init(settings: StrategySettings<MicroTrendFollower.Tuning>) { runner = StrategyRunner(settings: settings) }
    public func onTick(_ tick: Tick, requestId: () -> String) -> Signal? { runner.onTick(tick, requestId: requestId) }
}

/// The Micro Trend Follower: trades short bursts of momentum that beat noise and costs.
///
/// Per tick, O(1): mid price → return → momentum (running sum of the last N returns) and volatility (running
/// standard deviation) → volatility filter (skip dead and chaotic markets) → threshold (momentum must beat a
/// multiple of the window's expected noise plus spread, slippage and fees). Flat, a strong move is an entry
/// its way; holding, a strong move against the position closes it (the next strong tick may open the other
/// way, through the mindset). The bounds are per tick, not per second: docs/architecture.md "Tick rate".
public struct MicroTrendFollower: StrategyLogic {
    public static let id = "micro_trend"
    public static let kind = "micro_trend_follower"
    public static let summary = "Follows short bursts of momentum that beat the market's noise plus spread, fees and slippage."

    public struct Tuning: StrategyTuning {
        public var momentumWindow = 50
        public var volatilityWindow = 100
        /// Momentum must beat this multiple of volatility (plus costs) to trade.
        public var thresholdMultiple = 1.5
        /// Skip markets whose per-tick volatility (relative) is below this: nothing moves.
        public var minVolatility = 0.000_001
        /// …or above this: chaos.
        public var maxVolatility = 0.01
        /// A reversal needs momentum this many times the entry threshold.
        public var reversalMultiple = 1.0

        public init() {}

        public static let defaultBasics = StrategyBasics(enabled: true, stopLossPercent: 0.5)

        public static let parameters: [ParameterSpec<Self>] = [
            .integer("momentum_window", \.momentumWindow, in: 2...100_000, "Returns summed into the momentum (ticks)."),
            .integer("volatility_window", \.volatilityWindow, in: 2...100_000, "Returns in the running standard deviation (ticks)."),
            .number("threshold_multiple", \.thresholdMultiple, in: 0.01...100,
                    "Momentum must beat this many times the window's expected noise, plus costs."),
            .number("min_volatility", \.minVolatility, in: 0...1, "No trade when the per-tick volatility is below this: nothing moves."),
            .number("max_volatility", \.maxVolatility, in: 0.000_000_001...1, "No trade when the per-tick volatility is above this: chaos."),
            .number("reversal_multiple", \.reversalMultiple, in: 0.1...100,
                    "Close a position when momentum against it reaches this many times the entry threshold."),
        ]

        public func inconsistency() -> ParameterProblem? {
            minVolatility < maxVolatility ? nil : ParameterProblem(parameter: "min_volatility", reason: "must be below max_volatility")
        }
    }

    private let tuning: Tuning
    static let leastBand = 1e-12
    /// Fees and slippage, both sides, as a fraction of the price.
    private let roundTripCosts: Double
    /// The noise expected over the momentum window, per unit of per-tick volatility.
    private let noiseScale: Double
    private var lastMid: Double?
    private var momentum: RollingWindow
    private var volatility: RollingWindow

    public init(settings: StrategySettings<Tuning>) {
        tuning = settings.tuning
        roundTripCosts = 2 * (settings.basics.feeRate + settings.basics.slippageRate)
        noiseScale = settings.tuning.thresholdMultiple * Double(settings.tuning.momentumWindow).squareRoot()
        momentum = RollingWindow(capacity: settings.tuning.momentumWindow)
        volatility = RollingWindow(capacity: settings.tuning.volatilityWindow)
    }

    public mutating func onQuote(_ quote: Quote, holding: Holding) -> Intent<Reason>? {
        let mid = quote.mid
        defer { lastMid = mid }
        guard let last = lastMid else { return nil }
        let change = (mid - last) / last
        momentum.push(change)
        volatility.push(change)
        guard momentum.isFull, volatility.isFull else { return nil }

        let noise = volatility.standardDeviation
        guard noise >= tuning.minVolatility, noise <= tuning.maxVolatility else { return nil }
        // Never zero (no volatility floor and a zero spread): a strength must stay a finite number.
        let band = max(noiseScale * noise + quote.spread / mid, Self.leastBand)
        let threshold = band + roundTripCosts
        let sum = momentum.sum
        let strength = abs(sum) / threshold
        let direction: Side = sum > 0 ? .buy : .sell
        switch holding {
        case .flat:
            return strength >= 1 ? .enter(direction, strength: strength, .momentum(sum, threshold: threshold)) : nil
        case .long, .short:
            // Against the noise and the spread alone: the costs of the round trip are paid however late it closes, so
            // a higher fee must make entries rarer, never exits later.
            let against = (holding == .long) == (direction == .sell)
            let reversal = abs(sum) / band
            return against && reversal >= tuning.reversalMultiple ? .exit(strength: reversal, .reversal(sum)) : nil
        }
    }

    /// Why, as numbers (`String(format:)` costs more than the rest of a tick: words only for a signal sent).
    public enum Reason: CustomStringConvertible {
        case momentum(Double, threshold: Double)
        case reversal(Double)

        public var description: String {
            switch self {
            case .momentum(let momentum, let threshold): "momentum \(percentText(momentum)) beats threshold \(percentText(threshold))"
            case .reversal(let momentum): "strong opposite move \(percentText(momentum)): closing to reverse"
            }
        }
    }
}
