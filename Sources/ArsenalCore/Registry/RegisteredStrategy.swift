import BagbotDomain

/// A registered strategy as the coordinator holds it: one small final class per strategy (declared in the
/// strategy's file) around the generic `StrategyRunner`. The coordinator calls strategies through
/// `any Strategy`, and a generic class (or a protocol extension) called that way runs unspecialised code:
/// every use of the logic goes through witness tables and generic metadata lookups, a third of the ticks per
/// second. So each class writes `onTick` itself (`runner.onTick(…)`, one line): in a concrete class the
/// runner's per-tick code is compiled for its one logic. The cold members are shared here.
public protocol RegisteredStrategy: ConfigurableStrategy {
    associatedtype Logic: StrategyLogic
    var runner: StrategyRunner<Logic> { get }
}

extension RegisteredStrategy {
    public var id: String { runner.id }
    public var kind: String { runner.kind }
    public var symbols: [String] { runner.symbols }
    public var isEnabled: Bool {
        get { runner.isEnabled }
        set { runner.isEnabled = newValue }
    }

    public func onFill(_ fill: Fill) throws -> ClosedTrade? { try runner.onFill(fill) }
    public func orderEnded(symbol: String, role: OrderRole) { runner.orderEnded(symbol: symbol, role: role) }
    public func orderStillInFlight(symbol: String, role: OrderRole) { runner.orderStillInFlight(symbol: symbol, role: role) }
    public func resync(symbol: String, position: PositionBook) { runner.resync(symbol: symbol, position: position) }
    public func position(of symbol: String) -> PositionBook? { runner.position(of: symbol) }
    public func exitRefused(symbol: String) { runner.exitRefused(symbol: symbol) }
    public func setSymbolRules(_ rules: SymbolRules) { runner.setSymbolRules(rules) }
    public func info() -> StrategyInfo { runner.info() }

    public var choice: StrategyChoice { runner.choice }
    public func choice(settingEnabled enabled: Bool) -> StrategyChoice { runner.choice(settingEnabled: enabled) }
    public func choice(setting values: [String: JSONValue]) throws(ParameterProblem) -> StrategyChoice {
        try runner.choice(setting: values)
    }
    @discardableResult
    public func restore(_ choice: StrategyChoice) -> [ParameterProblem] { runner.restore(choice) }
}
