import Foundation
import BagbotDomain

/// Mean Reversion as the registry runs it.
public final class MeanReversionStrategy: RegisteredStrategy {
    public let runner: StrategyRunner<MeanReversion>
    public init(settings: StrategySettings<MeanReversion.Tuning>) { runner = StrategyRunner(settings: settings) }
    public func onTick(_ tick: Tick, requestId: () -> String) -> Signal? { runner.onTick(tick, requestId: requestId) }
}

/// Mean Reversion: fades stretches away from the recent mean and takes profit when the price comes back.
///
/// Per tick, O(1): mid price → rolling mean and standard deviation of the last N mids → z-score. Flat, a
/// z-score beyond the entry band is an entry toward the mean (a buy below it, a sell above), when the distance
/// to the mean also beats spread, fees and slippage; holding, a z-score back inside the exit band closes the
/// position. A price that keeps running away is the stop's job (the arsenal's, at `stop_loss_percent`).
public struct MeanReversion: StrategyLogic {
    public static let id = "mean_reversion"
    public static let kind = "mean_reversion"
    public static let summary = "Fades a price stretched beyond its rolling mean by a z-score band, and exits when it reverts."

    public struct Tuning: StrategyTuning {
        public var window = 100
        /// Enter when the price is this many standard deviations from the mean.
        public var entryZ = 2.0
        /// Exit when it is back within this many.
        public var exitZ = 0.5
        /// No entry beyond this many: a move that large is a breakout (news, a gap), not noise to fade.
        public var maxZ = 4.0
        /// No entry when the window's standard deviation, relative to the price, is below this: nothing moves.
        public var minVolatility = 0.000_01

        public init() {}

        /// Off until a trader enables it: a second strategy trading the same symbols changes what runs.
        public static let defaultBasics = StrategyBasics(enabled: false, stopLossPercent: 1.0)

        public static let parameters: [ParameterSpec<Self>] = [
            .integer("window", \.window, in: 2...100_000, "Mid prices in the rolling mean and standard deviation (ticks)."),
            .number("entry_z", \.entryZ, in: 0.1...20, "Enter toward the mean when the price is this many standard deviations away."),
            .number("exit_z", \.exitZ, in: 0.05...20, "Exit when the price is back within this many standard deviations of the mean."),
            .number("max_z", \.maxZ, in: 0.1...100, "No entry beyond this many standard deviations: a breakout, not a stretch."),
            .number("min_volatility", \.minVolatility, in: 0...1,
                    "No entry when the window's standard deviation is below this fraction of the price."),
        ]

        public func inconsistency() -> ParameterProblem? {
            if exitZ >= entryZ { return ParameterProblem(parameter: "exit_z", reason: "must be below entry_z") }
            if maxZ <= entryZ { return ParameterProblem(parameter: "max_z", reason: "must be above entry_z") }
            return nil
        }
    }

    private let tuning: Tuning
    private let roundTripCosts: Double
    /// Prices are kept relative to the first one seen, so the running sum of squares keeps its precision at
    /// any price level.
    private var anchor: Double?
    private var prices: RollingWindow
    /// Whether an entry may be taken: false from the moment a position is held until, flat again, the price
    /// has come back inside the exit band.
    private var armed = true

    public init(settings: StrategySettings<Tuning>) {
        tuning = settings.tuning
        roundTripCosts = 2 * (settings.basics.feeRate + settings.basics.slippageRate)
        prices = RollingWindow(capacity: settings.tuning.window)
    }

    public mutating func onQuote(_ quote: Quote, holding: Holding) -> Intent<Reason>? {
        let mid = quote.mid
        let anchor = anchor ?? mid
        self.anchor = anchor
        // This mid is judged against the window before it, then joins it (a jump after a quiet spell would
        // otherwise widen the very deviation it is measured by, and a jump after identical prices be "z = 10").
        defer { prices.push(mid - anchor) }
        guard prices.isFull else { return nil }
        let deviation = prices.standardDeviation
        guard deviation > 0 else { return nil }
        let distance = mid - (anchor + prices.mean)
        let z = distance / deviation
        switch holding {
        case .flat:
            guard armed else {
                armed = abs(z) <= tuning.exitZ
                return nil
            }
            guard abs(z) <= tuning.maxZ else {
                // A breakout: the moves after it widen the window and bring z back under max_z while the price
                // is still out there. No entry until it has come back inside the exit band.
                armed = false
                return nil
            }
            guard abs(z) >= tuning.entryZ, deviation / mid >= tuning.minVolatility,
                  abs(distance) / mid > quote.spread / mid + roundTripCosts else { return nil }
            return .enter(z < 0 ? .buy : .sell, strength: abs(z) / tuning.entryZ, .stretched(z: z, band: tuning.entryZ))
        case .long:
            armed = false
            return z >= -tuning.exitZ ? .exit(strength: 1, .reverted(z: z, band: tuning.exitZ)) : nil
        case .short:
            armed = false
            return z <= tuning.exitZ ? .exit(strength: 1, .reverted(z: z, band: tuning.exitZ)) : nil
        }
    }

    public enum Reason: CustomStringConvertible {
        case stretched(z: Double, band: Double)
        case reverted(z: Double, band: Double)

        public var description: String {
            switch self {
            case .stretched(let z, let band): "z-score \(String(format: "%+.2f", z)) beyond the entry band ±\(band)"
            case .reverted(let z, let band): "z-score \(String(format: "%+.2f", z)) back within ±\(band): taking the reversion"
            }
        }
    }
}
