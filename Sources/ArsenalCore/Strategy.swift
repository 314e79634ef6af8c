import Foundation
import BagbotDomain

/// A trading strategy as the arsenal runs it. Strategies are owned by the `TradeCoordinator` actor and
/// touched only from it, so they can keep plain mutable state.
public protocol Strategy: AnyObject {
    var id: String { get }
    var kind: String { get }
    var symbols: [String] { get }
    var isEnabled: Bool { get set }
    /// Sees one tick; returns at most one signal. Must be O(1).
    func onTick(_ tick: Tick, requestId: () -> String) -> Signal?
    /// A real fill of this strategy's order; returns the trade it closed, if any. Throws (and changes
    /// nothing) when the position's amounts would leave the exact range.
    func onFill(_ fill: Fill) throws -> ClosedTrade?
    /// The strategy's order of this role for `symbol` is over (final, rejected, never sent, withdrawn).
    func orderEnded(symbol: String, role: OrderRole)
    /// An order of this role for `symbol` is still in flight although something (a resync) cleared the mark:
    /// no new signal of that role until `orderEnded`.
    func orderStillInFlight(symbol: String, role: OrderRole)
    /// The position its fills built in `symbol` (nil: not one of its symbols).
    func position(of symbol: String) -> PositionBook?
    /// An exit or stop for `symbol` was refused or could not be sent: the next one waits a little longer each
    /// time (it is not re-sent on every tick), until a fill.
    func exitRefused(symbol: String)
    /// Replaces the position with what the venue's fills say (after a restart or reconnect).
    func resync(symbol: String, position: PositionBook)
    /// Takes a symbol's rules from routerd: its least tradable quantity (a position below it is dust no order can
    /// sell, and counts as flat) and the venue's fee (counted in the entry threshold when above the strategy's own).
    func setSymbolRules(_ rules: SymbolRules)
    func info() -> StrategyInfo
}

/// What an order does to the strategy's position. One of each may be in flight per strategy and symbol: while
/// an entry's outcome is being settled, the position its fills built so far is still protected by the stop
/// (an exit), and the end of one never frees the other.
public enum OrderRole: Sendable, Hashable, CaseIterable {
    /// Opens a position: through mindsetd, never while another entry is unsettled.
    case entry
    /// Reduces it (an exit or the stop): reduce-only, straight to routerd.
    case exit

    public init(_ signal: Signal) { self = signal.isEntry ? .entry : .exit }
}

/// A strategy of the registry: enabled, disabled and tuned at run time, its choices kept across restarts.
/// Touched only from the `TradeCoordinator` actor, like every strategy.
public protocol ConfigurableStrategy: Strategy {
    /// What was chosen at run time, to be saved.
    var choice: StrategyChoice { get }
    /// The choice that enabling or disabling entries would make (a disabled strategy still exits its positions).
    func choice(settingEnabled enabled: Bool) -> StrategyChoice
    /// The choice that new parameter values would make, checked all or none; applies nothing.
    func choice(setting values: [String: JSONValue]) throws(ParameterProblem) -> StrategyChoice
    /// Puts a choice in force over `bagbot.yaml`; returns what it had to drop.
    @discardableResult
    func restore(_ choice: StrategyChoice) -> [ParameterProblem]
}

/// Per-strategy running results, shared by strategies so `info()` and confidence agree.
public struct StrategyStats: Sendable, Equatable {
    public var signals = 0
    public var fills = 0
    public var trades = 0
    public var wins = 0
    public var realizedPnl: ExactDecimal = 0

    public init() {}

    /// Laplace-smoothed win rate: 0.5 with no history, moving toward the real rate as trades accrue.
    public var confidence: Double { Double(wins + 1) / Double(trades + 2) }

    public mutating func record(_ trade: ClosedTrade) {
        trades += 1
        if trade.pnl.isPositive { wins += 1 }
        // A running total for display; one out of range stops growing rather than stop the strategy.
        realizedPnl = (try? realizedPnl + trade.pnl) ?? realizedPnl
    }
}
