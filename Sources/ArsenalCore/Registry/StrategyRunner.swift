import Foundation
import BagbotDomain

/// A registered strategy as the arsenal runs it: the strategy's logic, one value per symbol, inside the
/// mechanics every strategy shares — the position from real fills, one entry and one exit in flight per
/// symbol, the order-rate guard, the stop and its backoff, sizing, enabling and run-time parameters.
///
/// Per tick, O(1): the logic sees the quote → the stop (never held back by the guard or by disabling) → the
/// logic's intent, sized (an entry at the base quantity when flat and enabled; an exit for the whole
/// position, also when disabled) → the guard (cooldown, orders per minute).
public final class StrategyRunner<Logic: StrategyLogic> {
    public let id: String
    public var kind: String { Logic.kind }
    public let symbols: [String]
    public var isEnabled: Bool
    public private(set) var stats = StrategyStats()
    /// In force: `bagbot.yaml` with the run-time choices over it.
    public private(set) var settings: StrategySettings<Logic.Tuning>
    /// As `bagbot.yaml` says.
    private let configured: StrategySettings<Logic.Tuning>
    private var stopFraction: Double
    /// Parameters set at run time (kept across restarts), and whether enabling was chosen at run time.
    private var overrides: [String: Double] = [:]
    private var enabledChoice: Bool?
    private var slots: [String: Slot] = [:]
    /// The symbol of the last tick and its slot: a feed sends runs of one symbol, and comparing two short
    /// strings costs less than hashing one.
    private var lastSlot: (symbol: String, slot: Slot)?

    /// One symbol's state. The class is mutated in place (a struct copied out of `slots` and written back
    /// would copy the logic's windows on every tick: O(window), not O(1)); its fields live in one struct that
    /// a tick mutates in a single access (each access to a class's property is checked for exclusivity at run
    /// time, and a tick would otherwise make a dozen).
    final class Slot {
        var state: SlotState
        init(_ state: SlotState) { self.state = state }
    }

    struct SlotState {
        var logic: Logic
        private(set) var position = PositionBook()
        /// Long, short, or flat when what is held is below `minimumQuantity`: kept with the position (a tick reads
        /// it, never recomputes it).
        private(set) var holding = Holding.flat
        /// The least the venue trades in this symbol (its rules' minimum quantity, from routerd). Less than that is
        /// dust no order can sell — what a base-asset commission leaves once an exit is rounded down onto the step
        /// size — so it counts as flat: the next entry adds to it and a later exit sells it with the rest.
        private(set) var minimumQuantity = ExactDecimal.zero
        var guardrail: OrderRateGuard
        /// An entry of this symbol is unsettled: no other entry, no exit of the logic's; the stop still acts on
        /// what its fills have opened so far.
        var entryInFlight = false
        /// An exit or a stop is unsettled: nothing else goes out (a second close would be refused or flip).
        var exitInFlight = false
        /// The symbol's base order size (looked up once, not hashed on every tick).
        let baseQuantity: ExactDecimal
        /// The market time of the symbol's last tick.
        var lastTime = Date.distantPast
        /// Exits refused in a row (reset by a fill), and when the next exit may go.
        var exitRefusals = 0
        var exitRetryAt = Date.distantPast
        /// The parameters changed while the symbol held a position or had an order in flight: the logic is
        /// rebuilt once it is idle.
        var logicIsStale = false
        /// The venue's fee per side for the symbol (routerd's rules), 0 until known: the logic counts the higher of
        /// it and the strategy's `fee_rate`.
        var venueFeeRate = 0.0

        var isIdle: Bool { holding == .flat && !entryInFlight && !exitInFlight }

        mutating func apply(_ fill: Fill) throws -> PositionBook.Closed? {
            let closed = try position.apply(fill)
            holding = position.holding(minimum: minimumQuantity)
            return closed
        }

        mutating func replacePosition(_ book: PositionBook) {
            position = book
            holding = position.holding(minimum: minimumQuantity)
        }

        mutating func setMinimumQuantity(_ minimum: ExactDecimal) {
            minimumQuantity = minimum.isNegative ? .zero : minimum
            holding = position.holding(minimum: minimumQuantity)
        }
    }

    public init(settings: StrategySettings<Logic.Tuning>) {
        self.id = Logic.id
        self.settings = settings
        self.configured = settings
        self.symbols = settings.basics.symbols
        self.isEnabled = settings.basics.enabled
        self.stopFraction = settings.basics.stopLossPercent / 100
        for symbol in settings.basics.symbols {
            slots[symbol] = Slot(SlotState(
                logic: Self.logic(settings, venueFeeRate: 0),
                guardrail: OrderRateGuard(cooldown: settings.basics.orderCooldownMs / 1000, maxPerMinute: settings.basics.maxOrdersPerMinute),
                baseQuantity: settings.basics.baseQuantity[symbol] ?? .zero))
        }
    }

    public func position(of symbol: String) -> PositionBook? { slots[symbol]?.state.position }

    /// Whether `symbol`'s position is one an order could trade (not flat, not dust).
    public func holds(_ symbol: String) -> Bool { slots[symbol].map { $0.state.holding != .flat } ?? false }

    public func setMinimumQuantity(_ minimum: ExactDecimal, for symbol: String) {
        slots[symbol]?.state.setMinimumQuantity(minimum)
    }

    /// A symbol's rules from routerd: its least tradable quantity, and the venue's fee, which the logic counts in
    /// its costs when above `fee_rate` (rebuilt at once if the symbol is idle, else once it is, as for a change
    /// of parameters): a strategy tried on one venue's fees must not trade on another's as if they were lower.
    public func setSymbolRules(_ rules: SymbolRules) {
        guard let slot = slots[rules.symbol] else { return }
        slot.state.setMinimumQuantity(rules.minQuantity)
        let fee = rules.feeRate.map(\.doubleValue) ?? 0
        // Rebuilt only when the fee counted changes (a venue fee under fee_rate changes nothing): a rebuild empties
        // the logic's windows.
        let counted = { max(self.settings.basics.feeRate, $0) }
        let changes = counted(fee) != counted(slot.state.venueFeeRate)
        slot.state.venueFeeRate = fee
        guard changes else { return }
        if slot.state.isIdle {
            slot.state.logic = Self.logic(settings, venueFeeRate: fee)
            slot.state.logicIsStale = false
        } else {
            slot.state.logicIsStale = true
        }
    }

    /// The logic for one symbol: the settings with the venue's fee where it is the higher.
    static func logic(_ settings: StrategySettings<Logic.Tuning>, venueFeeRate: Double) -> Logic {
        var effective = settings
        effective.basics.feeRate = max(settings.basics.feeRate, venueFeeRate)
        return Logic(settings: effective)
    }

    private func slot(of symbol: String) -> Slot? {
        if let lastSlot, lastSlot.symbol == symbol { return lastSlot.slot }
        guard let slot = slots[symbol] else { return nil }
        lastSlot = (symbol, slot)
        return slot
    }

    // MARK: - Trade path

    public func onTick(_ tick: Tick, requestId: () -> String) -> Signal? {
        guard let slot = slot(of: tick.symbol), tick.bid.isPositive, tick.ask >= tick.bid else { return nil }
        let quote = Quote(bid: tick.bid.doubleValue, ask: tick.ask.doubleValue, time: tick.time)
        guard let decision = step(&slot.state, quote) else { return nil }
        stats.signals += 1
        return Signal(strategyId: id, symbol: tick.symbol, side: decision.side, quantity: decision.quantity,
                      price: decision.side == .buy ? tick.ask : tick.bid, time: tick.time, strength: decision.strength,
                      confidence: stats.confidence, isEntry: decision.isEntry, reason: decision.reason.description,
                      requestId: requestId())
    }

    /// The tick's work on one symbol, in one access to its state.
    private func step(_ state: inout SlotState, _ quote: Quote) -> Decision? {
        if state.logicIsStale, state.isIdle {
            state.logic = Self.logic(settings, venueFeeRate: state.venueFeeRate)
            state.logicIsStale = false
        }
        let holding = state.holding
        let intent = state.logic.onQuote(quote, holding: holding)
        // A feed whose clock went back (a replay started over) must not leave exits waiting until it catches up.
        if quote.time < state.lastTime { state.exitRetryAt = .distantPast }
        state.lastTime = quote.time
        guard !state.exitInFlight, quote.time >= state.exitRetryAt || holding == .flat else { return nil }

        // The stop comes first and needs no history: after a restart an open position is protected from its
        // first tick, and neither a disabled strategy, nor the order-rate guard, nor an entry whose outcome is
        // still being settled may hold it back (it closes what the fills received so far have opened).
        if let stop = stopLoss(state.position, holding: holding, mid: quote.mid) {
            state.guardrail.record(quote.time)
            state.exitInFlight = true
            return stop
        }
        guard !state.entryInFlight, let intent else { return nil }
        let decision: Decision
        switch intent.action {
        case .enter(let side):
            guard isEnabled, holding == .flat, state.baseQuantity.isPositive else { return nil }
            decision = Decision(side: side, quantity: state.baseQuantity, strength: intent.strength, isEntry: true,
                                reason: .logic(intent.reason))
        case .exit:
            guard holding != .flat else { return nil }
            decision = Decision(side: holding == .long ? .sell : .buy, quantity: state.position.quantity.magnitude,
                                strength: intent.strength, isEntry: false, reason: .logic(intent.reason))
        }
        guard state.guardrail.allows(at: quote.time) else { return nil }
        state.guardrail.record(quote.time)
        if decision.isEntry { state.entryInFlight = true } else { state.exitInFlight = true }
        return decision
    }

    private func stopLoss(_ position: borrowing PositionBook, holding: Holding, mid: Double) -> Decision? {
        guard holding != .flat else { return nil }
        let entry = position.averagePrice.doubleValue
        guard entry > 0 else { return nil }
        let move = (mid - entry) / entry * (holding == .long ? 1 : -1)
        guard move <= -stopFraction else { return nil }
        return Decision(side: holding == .long ? .sell : .buy, quantity: position.quantity.magnitude, strength: 10,
                        isEntry: false, reason: .stop(move: move))
    }

    private struct Decision {
        var side: Side
        var quantity: ExactDecimal
        var strength: Double
        var isEntry: Bool
        var reason: DecisionReason
    }

    /// The stop's reason or the logic's; the sentence is written only for a signal that goes out.
    private enum DecisionReason: CustomStringConvertible {
        case stop(move: Double)
        case logic(Logic.Reason)

        var description: String {
            switch self {
            case .stop(let move): "stop loss: \(percentText(move)) against the position"
            case .logic(let reason): reason.description
            }
        }
    }

    public func onFill(_ fill: Fill) throws -> ClosedTrade? {
        guard let slot = slots[fill.symbol] else { return nil }
        let closed = try slot.state.apply(fill)
        stats.fills += 1
        slot.state.exitRefusals = 0
        slot.state.exitRetryAt = .distantPast
        guard let closed else { return nil }
        let trade = ClosedTrade(strategyId: id, symbol: fill.symbol, side: closed.closedSide, quantity: closed.quantity,
                                entryPrice: closed.entryPrice, exitPrice: fill.price, pnl: closed.pnl, closedAt: fill.time,
                                requestId: fill.requestId, tradeId: fill.fillId)
        stats.record(trade)
        return trade
    }

    public func orderEnded(symbol: String, role: OrderRole) {
        guard let slot = slots[symbol] else { return }
        switch role {
        case .entry: slot.state.entryInFlight = false
        case .exit: slot.state.exitInFlight = false
        }
    }

    public func orderStillInFlight(symbol: String, role: OrderRole) {
        guard let slot = slots[symbol] else { return }
        switch role {
        case .entry: slot.state.entryInFlight = true
        case .exit: slot.state.exitInFlight = true
        }
    }

    /// Backs the next exit off: 0.5 s of market time after a first refusal, doubling to 10 s for refusals in a
    /// row (a refusal more than 10 s after the last retry was due starts over at 0.5 s). A stop that routerd
    /// refuses (or cannot be reached for, or accepts and then ends without a fill) is not re-sent on every
    /// tick; a fill resets it.
    public func exitRefused(symbol: String) {
        guard let slot = slots[symbol] else { return }
        // Refusals count in a row: one long after the last starts the backoff over.
        if slot.state.lastTime.timeIntervalSince(slot.state.exitRetryAt) > 10 { slot.state.exitRefusals = 0 }
        slot.state.exitRefusals += 1
        let delay = min(10, 0.5 * Double(1 << min(slot.state.exitRefusals - 1, 5)))
        slot.state.exitRetryAt = slot.state.lastTime.addingTimeInterval(delay)
    }

    /// Whether an order of this role is in flight for `symbol`.
    public func isInFlight(symbol: String, role: OrderRole) -> Bool {
        guard let state = slots[symbol]?.state else { return false }
        return role == .entry ? state.entryInFlight : state.exitInFlight
    }

    public func resync(symbol: String, position: PositionBook) {
        guard let slot = slots[symbol] else { return }
        slot.state.replacePosition(position)
        slot.state.entryInFlight = false
        slot.state.exitInFlight = false
        slot.state.exitRefusals = 0
        slot.state.exitRetryAt = .distantPast
    }

    // MARK: - Registry

    /// What was chosen at run time, with what `bagbot.yaml` said then.
    public var choice: StrategyChoice {
        let schema = StrategySettings<Logic.Tuning>.schema
        var configuredParameters: [String: Double] = [:]
        for spec in schema where overrides[spec.name] != nil { configuredParameters[spec.name] = spec.value(in: configured) }
        return StrategyChoice(enabled: enabledChoice, parameters: overrides,
                              configuredEnabled: enabledChoice == nil ? nil : configured.basics.enabled,
                              configuredParameters: configuredParameters)
    }

    /// The choice that enabling or disabling would make (applied with `restore`).
    public func choice(settingEnabled enabled: Bool) -> StrategyChoice {
        var next = choice
        next.enabled = enabled
        next.configuredEnabled = configured.basics.enabled
        return next
    }

    /// The choice that these parameter values would make, checked all or none: an unknown name, a value of the
    /// wrong type or out of its bounds, or values that contradict each other throw the reason. Applies nothing.
    public func choice(setting values: [String: JSONValue]) throws(ParameterProblem) -> StrategyChoice {
        guard !values.isEmpty else { throw ParameterProblem(parameter: "parameters", reason: "name at least one parameter") }
        let schema = StrategySettings<Logic.Tuning>.schema
        var next = settings
        var nextChoice = choice
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let spec = schema.first(where: { $0.name == name }) else {
                throw ParameterProblem(parameter: name, reason: "unknown parameter (known: \(schema.map(\.name).joined(separator: ", ")))")
            }
            try spec.set(value, in: &next)
            nextChoice.parameters[name] = spec.value(in: next)
            nextChoice.configuredParameters[name] = spec.value(in: configured)
        }
        if let problem = next.problem() { throw problem }
        return nextChoice
    }

    /// Puts exactly `choice` over `bagbot.yaml`: an earlier run's choices at start, or a change just saved. A
    /// choice made when `bagbot.yaml` said something else is dropped (the trader edited the file since: the
    /// later decision wins), as is a value today's schema refuses (renamed, out of new bounds); each is
    /// reported, the rest apply.
    @discardableResult
    public func restore(_ choice: StrategyChoice) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        if let enabled = choice.enabled, let basis = choice.configuredEnabled, basis != configured.basics.enabled {
            problems.append(ParameterProblem(parameter: "enabled", reason:
                "bagbot.yaml says \(configured.basics.enabled) since \(enabled) was chosen at run time; bagbot.yaml wins"))
            enabledChoice = nil
        } else {
            enabledChoice = choice.enabled
        }
        isEnabled = enabledChoice ?? configured.basics.enabled
        var next = configured
        var kept: [String: Double] = [:]
        let schema = StrategySettings<Logic.Tuning>.schema
        var contradicting: [(spec: ParameterSpec<StrategySettings<Logic.Tuning>>, value: Double)] = []
        for (name, value) in choice.parameters.sorted(by: { $0.key < $1.key }) {
            guard let spec = schema.first(where: { $0.name == name }) else {
                problems.append(ParameterProblem(parameter: name, reason: "no longer a parameter of \(id); dropped"))
                continue
            }
            if let basis = choice.configuredParameters[name], basis != spec.value(in: configured) {
                problems.append(ParameterProblem(parameter: name, reason:
                    "bagbot.yaml says \(spec.value(in: configured)) since \(value) was set at run time; bagbot.yaml wins"))
                continue
            }
            var candidate = next
            do {
                try spec.set(.number(value), in: &candidate)
            } catch {
                problems.append(ParameterProblem(parameter: name, reason: "\(error.reason); dropped"))
                continue
            }
            guard candidate.problem() == nil else {
                contradicting.append((spec, value))
                continue
            }
            next = candidate
            kept[name] = value
        }
        // A value that contradicted the others may fit once the rest are in (saved together, they agreed); one
        // that still does not is dropped alone, the others stay.
        for (spec, value) in contradicting {
            var candidate = next
            try? spec.set(.number(value), in: &candidate)
            if let problem = candidate.problem() {
                problems.append(ParameterProblem(parameter: spec.name, reason: "\(problem); dropped"))
            } else {
                next = candidate
                kept[spec.name] = value
            }
        }
        apply(next)
        overrides = kept
        return problems
    }

    /// Puts settings in force. The stop, the cooldown and the order cap apply at once. When what the logic
    /// computes with changed, each symbol's logic is rebuilt (its windows fill again) — at once where the
    /// symbol is flat with nothing in flight, else once it is: a position keeps the logic that opened it (a
    /// fresh window would judge its exit against a mean taken after the entry).
    private func apply(_ next: StrategySettings<Logic.Tuning>) {
        let rebuild = next.tuning != settings.tuning || next.basics.feeRate != settings.basics.feeRate
            || next.basics.slippageRate != settings.basics.slippageRate
        settings = next
        stopFraction = next.basics.stopLossPercent / 100
        for slot in slots.values {
            if rebuild {
                if slot.state.isIdle {
                    slot.state.logic = Self.logic(next, venueFeeRate: slot.state.venueFeeRate)
                    slot.state.logicIsStale = false
                } else {
                    slot.state.logicIsStale = true
                }
            }
            slot.state.guardrail.reconfigure(cooldown: next.basics.orderCooldownMs / 1000, maxPerMinute: next.basics.maxOrdersPerMinute)
        }
    }

    public func info() -> StrategyInfo {
        let defaults = StrategySettings<Logic.Tuning>()
        let parameters = StrategySettings<Logic.Tuning>.schema.map { spec in
            let value = spec.value(in: settings)
            let source: StrategyParameterInfo.Source = overrides[spec.name] != nil ? .runtime
                : value != spec.value(in: defaults) ? .config : .default
            return StrategyParameterInfo(name: spec.name, type: spec.type, value: value, defaultValue: spec.value(in: defaults),
                                         minimum: spec.minimum, maximum: spec.maximum, description: spec.description, source: source)
        }
        return StrategyInfo(id: id, kind: kind, description: Logic.summary, enabled: isEnabled, symbols: symbols,
                            baseQuantity: settings.basics.baseQuantity.filter { symbols.contains($0.key) }, parameters: parameters,
                            positions: slots.mapValues { $0.state.position.quantity }, signals: stats.signals, fills: stats.fills,
                            realizedPnl: stats.realizedPnl, trades: stats.trades, wins: stats.wins)
    }
}

extension PositionBook {
    /// Flat below `minimum` (dust no order can trade), else the position's side.
    func holding(minimum: ExactDecimal) -> Holding {
        if quantity.isZero || quantity.magnitude < minimum { return .flat }
        return quantity.isPositive ? .long : .short
    }
}

/// A fraction as a signed percentage with four decimals, for reasons.
func percentText(_ fraction: Double) -> String { String(format: "%+.4f%%", fraction * 100) }
