import Foundation
import Logging
import BagbotDomain
import BagbotIPC

/// What `mindset.state` returns.
public struct MindsetSnapshot: Codable, Sendable, Equatable {
    public var emotionState: String
    public var lockReason: String?
    public var dayStart: Date?
    public var dailyPnl: ExactDecimal
    public var trades: Int
    public var wins: Int
    public var losses: Int
    public var winStreak: Int
    public var lossStreak: Int
    /// Today's limit: the tighter of the absolute and the percentage of `startOfDayEquity`.
    public var dailyLossLimit: ExactDecimal
    /// The account's equity at the start of the day and now (nil until routerd's account is read).
    public var startOfDayEquity: ExactDecimal?
    public var equity: ExactDecimal?
    /// The day's P&L the limits judge: the worst of the day's closed trades in the account currency (`dailyPnl` converted
    /// at each quote asset's rate), the change of equity (open positions included), and those closed trades (less the
    /// part made before the day) plus `openPositionsChange`.
    public var judgedPnl: ExactDecimal?
    /// How far the strategies' open positions (mindsetd's record of them, at routerd's marks) moved since the day's
    /// start: not moved by a deposit, which moves the equity (nil until known).
    public var openPositionsChange: ExactDecimal?
    /// Open positions ("strategy|symbol") that measure leaves out: no price or rate, or a coin the venue lacks.
    public var positionsLeftOut: [String]
    public var intradayPeak: ExactDecimal
    public var giveBackLimit: ExactDecimal
    /// The revenge guard in force, on mindsetd's clock: no entry until `cooldownUntil`; until
    /// `revengeWindowUntil` no entry larger than `lastLossNotional`.
    public var cooldownUntil: Date?
    public var revengeWindowUntil: Date?
    public var lastLossNotional: ExactDecimal?
    /// The losing trade's symbol: `lastLossNotional` is in its quote asset (an entry in another is capped at the same value).
    public var lastLossSymbol: String?
    /// A self-lockout in force: no entries until then, lifted by nothing else.
    public var selfLockoutUntil: Date?
    public var selfLockoutReason: String?
    public var decisions: Int
    public var approvals: Int
    public var blocksByReason: [String: Int]
    public var recentTransitions: [StateTransition]
    /// The grades of the recent closed trades, overall and per strategy, and what each lets through.
    public var grades: GradeBook
    /// What LOCKED does besides blocking entries today (`block` or `flatten`).
    public var onLocked: MindsetSettings.LockedAction
    /// The latest orders sent to flatten positions while LOCKED, newest last.
    public var flattenOrders: [FlattenOrder]
    /// Positions ("strategy|symbol") that three or more flatten orders have not closed.
    public var flattenStuck: [String]
    /// How far routerd's fill log is counted (its last sequence counted; 0 before any).
    public var countedFillSequence: Int64
}

public struct LockRequest: Codable, Sendable {
    public var reason: String
    public var time: Date?
}

/// Serialises every decision through one actor and persists the state after each change, so a restart
/// resumes exactly where it stopped (streaks, cooldowns, locks).
public actor MindsetService {
    private var engine: MindsetEngine
    private let store: MindsetStore
    private let logger: Logger
    private var decisions = 0
    private var approvals = 0
    private var blocks: [String: Int] = [:]
    private var persistFailures = 0
    private let wallClock: @Sendable () -> Date
    private var onTransition: (@Sendable (StateTransition) -> Void)?
    /// How many of the engine's noted transitions were announced.
    private var announced = 0
    /// routerd's record: the fill log closed trades are counted from, and the account (nil: only `record`
    /// counts trades, and the limits use the configured start-of-day equity).
    private let ledger: (any RouterLedger)?
    /// When the fill log was last read to its end (wall clock), and how old that may be before an entry reads it.
    private var lastLedgerRead: Date?
    private let ledgerFreshness: TimeInterval
    /// When an equity figure was last taken (wall clock): once the limits have used one, an older one than
    /// `ledgerFreshness` would hide the open positions' moves, so entries wait (`equity_pending`).
    private var lastEquityRead: Date?
    /// The positions the open positions' measure left out at the last account, as last logged.
    private var loggedPositionsLeftOut: [String] = []
    /// One catch-up with the fill log at a time; later callers wait for it, then look again.
    private var catchingUp = false
    private var catchUpWaiters: [CheckedContinuation<Void, Never>] = []
    /// Which positions get a reduce-only order next while LOCKED with `on_locked: flatten`; one round at a time.
    private var flattenSchedule: FlattenSchedule
    private var flattening = false
    /// routerd's trading switch at the last account reading (nil: not read yet).
    private var routerTradingEnabled: Bool?
    /// Whether the latest read of the fill log failed: flattening acts only on positions read to the log's end
    /// by the latest read (entries keep the three-poll freshness of `ledgerIsFresh`).
    private var lastCatchUpFailed = false
    /// The grades last written to `strategy_confidence.json` (nil: not yet).
    private var writtenGrades: GradeBook?

    public init(rules: MindsetRules, store: MindsetStore, logger: Logger, ledger: (any RouterLedger)? = nil,
                ledgerFreshness: TimeInterval = 3, flattenRetry: TimeInterval = 5, wallClock: @escaping @Sendable () -> Date = Date.init) {
        self.ledgerFreshness = ledgerFreshness
        flattenSchedule = FlattenSchedule(retryAfter: flattenRetry)
        self.store = store
        self.logger = logger
        self.ledger = ledger
        self.wallClock = wallClock
        var (start, needsSave) = Self.startingEngine(rules: rules, store: store, logger: logger, wallClock: wallClock())
        if let lockout = Self.selfLockout(in: store, logger: logger), lockout.until > (start.state.selfLockoutUntil ?? .distantPast) {
            // A lost or corrupt state file does not lift a self-lockout: it has a file of its own.
            (start.state.selfLockoutUntil, start.state.selfLockoutReason) = (lockout.until, lockout.reason)
            needsSave = true
        }
        engine = start
        announced = start.state.transitionsNoted
        do {
            try store.saveGrades(start.grades)
            writtenGrades = start.grades
        } catch {
            logger.error("cannot write \(GradeBook.fileName); will retry", metadata: ["error": "\(error)"])
        }
        guard needsSave else { return }
        do {
            try store.save(start.state)
        } catch {
            logger.critical("cannot save the state at start", metadata: ["error": "\(error)"])
            // Unsaved, a lock or a tightened limit would be gone after the next restart: entries wait until saved.
            persistFailures = 1
        }
    }

    /// The engine a start begins with, and whether its state must be saved at once. Never trade on invented
    /// state: a corrupt file, or a missing one where mindsetd has run before, means the locks and the day's
    /// figures are unknown: LOCKED until an admin acknowledges it (`mindset.unlock`), across resets.
    private static func startingEngine(rules: MindsetRules, store: MindsetStore, logger: Logger, wallClock: Date) -> (MindsetEngine, Bool) {
        let lockReason: String
        do {
            if let saved = try store.loadState() {
                let engine = MindsetEngine(rules: rules, state: saved)
                if engine.loosenedUntilReset {
                    logger.notice("the configuration loosens limits of a day in progress: those take effect at the next reset; tighter ones apply now")
                }
                // A tightening read now stays for the day even if the next start loosens again: saved at once.
                return (engine, engine.state != saved)
            }
            guard store.hasRunBefore else {
                do {
                    try store.markFirstStart()
                } catch {
                    logger.error("cannot mark mindsetd's first start; a lost state file could not be told from a first start", metadata: ["error": "\(error)"])
                }
                return (MindsetEngine(rules: rules), false)
            }
            lockReason = "state file was missing though mindsetd has run here before; locked until an admin acknowledges it (mindset.unlock)"
        } catch {
            lockReason = "state file was corrupt (\(error)); locked until an admin acknowledges it (mindset.unlock)"
        }
        logger.critical("mindset state unknown; starting LOCKED", metadata: ["reason": "\(lockReason)"])
        var fresh = MindsetEngine(rules: rules)
        _ = fresh.lock(reason: lockReason, at: wallClock, cause: .unknownState)
        return (fresh, true)
    }

    /// The self-lockout kept in its own file, if readable.
    private static func selfLockout(in store: MindsetStore, logger: Logger) -> MindsetStore.Lockout? {
        do {
            return try store.loadLockout()
        } catch {
            logger.critical("self_lockout.json is unreadable; the state's own record of a lockout stands", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Receives every emotion-state transition, once, in order (mindsetd publishes them on its `state` topic),
    /// from the ones noted after this call.
    public func setTransitionHandler(_ handler: @escaping @Sendable (StateTransition) -> Void) {
        onTransition = handler
        announced = engine.state.transitionsNoted
    }

    /// Logs and hands on the transitions noted since the last call (every change of state is noted in the
    /// state's history: a limit, a reset, a lock, an unlock), counted, not matched by value.
    private func announceTransitions() {
        let noted = engine.state.transitionsNoted
        guard noted > announced else { return }
        let history = engine.state.transitions
        let new = history.suffix(min(noted - announced, history.count))
        if noted - announced > history.count {
            logger.warning("more transitions at once than the state keeps; the oldest are not announced", metadata: ["count": "\(noted - announced)"])
        }
        for change in new {
            logger.notice("emotion state changed", metadata: [
                "from": "\(change.from.rawValue)", "to": "\(change.to.rawValue)", "reason": "\(change.reason)",
            ])
            onTransition?(change)
        }
        announced = noted
    }

    /// Checks of a peer's input against the configuration and mindsetd's clock; also bounds the engine's clock
    /// by the same wall clock, for the call about to be made.
    private func checked() -> MindsetInputCheck {
        let check = MindsetInputCheck(maxClockSkew: engine.rules.maxClockSkew, wallClock: wallClock())
        engine.ceiling = check.ceiling
        return check
    }

    /// Whether routerd's fill log was read within `ledgerFreshness`: after that, what is counted may be missing
    /// losses no caller has seen (routerd back on a restored log, arsenald not yet resynchronised), so an entry
    /// first reads the log to its end.
    private var ledgerIsFresh: Bool {
        guard let read = lastLedgerRead else { return false }
        return wallClock().timeIntervalSince(read) <= ledgerFreshness
    }

    public func evaluate(_ proposal: TradeProposal) async throws -> MindsetDecision {
        let check = checked()
        try check.proposal(proposal)
        if proposal.isEntry, engine.state.equity != nil,
           lastEquityRead.map({ check.wallClock.timeIntervalSince($0) > ledgerFreshness }) ?? true {
            await markToMarket()
            if lastEquityRead.map({ check.wallClock.timeIntervalSince($0) > ledgerFreshness }) ?? true {
                decisions += 1
                blocks["equity_pending", default: 0] += 1
                return engine.blocked("equity_pending", "equity_pending: routerd's account cannot be read (or is not fully valued), so the open positions' moves are unknown; no new entries")
            }
        }
        if proposal.isEntry, let lockout = engine.selfLockout(at: check.wallClock) {
            decisions += 1
            blocks["self_lockout", default: 0] += 1
            return engine.blocked("self_lockout", "self_lockout: no new entries until \(ISO8601DateFormatter().string(from: lockout.until)) (\(lockout.reason)); nobody can lift it early")
        }
        // A loss counts before the next entry: every trade closed by the fills its caller has seen is counted
        // first, from routerd's fill log; and when the log has not been read lately, every trade in it.
        if proposal.isEntry, ledger != nil {
            let seen = proposal.fillSequence
            let behind = seen.map { engine.countedFillSequence < $0 } ?? false || engine.countsInAnotherDatabase(than: proposal.fillDatabaseId)
            let rewritten = engine.sawAnotherFill(proposal.fillId, at: seen)
            let fresh = ledgerIsFresh && !rewritten
            if behind || !fresh, !(await catchUp(through: fresh ? seen : nil, in: proposal.fillDatabaseId)) {
                decisions += 1
                blocks["trades_pending", default: 0] += 1
                return engine.blocked("trades_pending", "trades_pending: routerd's fill log cannot be counted through \(seen.map(String.init) ?? "its end") (counted through \(engine.countedFillSequence)), so no new entries")
            }
        }
        // A lock that cannot be saved would be forgotten by a restart: no new risk until saving works.
        if persistFailures > 0 && proposal.isEntry {
            persist()
            if persistFailures > 0 {
                decisions += 1
                blocks["state_not_saved", default: 0] += 1
                return engine.blocked("state_not_saved", Self.notSaved)
            }
        }
        let before = engine.state
        var decision = engine.evaluate(proposal)
        announceTransitions()
        // Saved before it is answered: an approval that rests on a change (a new day that lifted yesterday's
        // lock) must not outlive a restart that would forget the change. A move of the clock alone is not
        // saved (it changes with every call): it only keeps the day from moving back, and the day is saved
        // whenever it changes.
        if Self.changedBeyondClock(engine.state, from: before) {
            saveThenArchive()
            if persistFailures > 0, proposal.isEntry, decision.approved {
                decision = engine.blocked("state_not_saved", Self.notSaved)
            }
        }
        decisions += 1
        if decision.approved {
            approvals += 1
        } else {
            blocks[decision.codes.first ?? "unknown", default: 0] += 1
        }
        // At info, approvals too: each line carries the request id that arsenald's, routerd's and the gateway's lines
        // about the same order carry, so an order's trace holds mindsetd's reasons (docs/observability.md).
        logger.info("decision", metadata: [
            "request_id": "\(proposal.requestId)", "strategy": "\(proposal.strategyId)", "symbol": "\(proposal.symbol)",
            "approved": "\(decision.approved)", "codes": "\(decision.codes.joined(separator: ","))",
            "reasons": "\(decision.reasons.joined(separator: "; "))",
        ])
        return decision
    }

    /// Counts the closed trades of routerd's fill log up to `target` (nil: as far as the log goes now), page
    /// by page, each page saved before the next is fetched. True when counted through `target` (or to the
    /// log's end); false when the log cannot be read or the state cannot be saved.
    @discardableResult
    public func catchUp(through target: Int64? = nil, in databaseId: String? = nil) async -> Bool {
        while catchingUp { await withCheckedContinuation { catchUpWaiters.append($0) } }
        if let target, engine.countedFillSequence >= target, !engine.countsInAnotherDatabase(than: databaseId) { return true }
        guard let ledger else { return false }
        catchingUp = true
        defer {
            catchingUp = false
            let waiters = catchUpWaiters
            catchUpWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
        // A log linked anew is read to the end it had then before anything is judged on it.
        var goal = target
        do {
            while true {
                let page = try await ledger.fills(after: engine.nextFillPageAfter, limit: Self.fillPage)
                lastCatchUpFailed = false
                let check = checked()
                let (outcome, _, trades, amended) = engine.count(page, ceiling: check.ceiling, wallClock: check.wallClock)
                announceTransitions()
                // The end of each trade's story: its closing fill's request id, as arsenald's and routerd's lines carry it.
                for trade in trades {
                    logger.info("trade counted from routerd's fill log", metadata: [
                        "request_id": "\(trade.requestId ?? "-")", "strategy": "\(trade.strategyId)", "symbol": "\(trade.symbol)",
                        "pnl": "\(MindsetEngine.format(trade.pnl))", "daily_pnl": "\(MindsetEngine.format(engine.state.dailyPnl))",
                    ])
                }
                for trade in amended {
                    logger.info("a later part of a closing order counted into its trade", metadata: [
                        "request_id": "\(trade.requestId ?? "-")", "strategy": "\(trade.strategyId)", "symbol": "\(trade.symbol)",
                        "trade_pnl": "\(MindsetEngine.format(trade.pnl))", "daily_pnl": "\(MindsetEngine.format(engine.state.dailyPnl))",
                    ])
                }
                switch outcome {
                case .relinked:
                    // Positions are being rebuilt: not fresh until the new log is read to its end.
                    lastLedgerRead = nil
                    logger.notice("counting closed trades from routerd's fill log anew: before today is history, today's fills count (each once)", metadata: [
                        "database_id": "\(page.databaseId)", "history_through": "\(page.lastSequence)",
                    ])
                    saveThenArchive()
                    guard persistFailures == 0 else { return false }
                    if goal != nil { goal = max(goal ?? 0, page.lastSequence) }
                    continue
                case .counted(let changed):
                    if changed {
                        saveThenArchive()
                        guard persistFailures == 0 else { return false }
                    }
                }
                if let goal, engine.countedFillSequence >= goal, !engine.countsInAnotherDatabase(than: databaseId) { return true }
                if page.fills.count < Self.fillPage || page.fills.last.flatMap(\.sequence).map({ $0 > engine.countedFillSequence }) == true {
                    // The log's end (or a gap that the next catch-up fetches again). Without a goal, "every trade in
                    // it": stopped short at a gap, the trades after it are not counted, so this is not done.
                    let reachedEnd = engine.countedFillSequence >= page.lastSequence
                    if reachedEnd { lastLedgerRead = check.wallClock }
                    return (goal.map { engine.countedFillSequence >= $0 } ?? reachedEnd) && !engine.countsInAnotherDatabase(than: databaseId)
                }
            }
        } catch {
            lastCatchUpFailed = true
            logger.warning("cannot read routerd's fill log; closed trades are counted once it can be", metadata: ["error": "\(error)"])
            return false
        }
    }

    static let fillPage = 1_000

    /// Catches up with the fill log and takes the account's equity every `interval` until cancelled, so trades
    /// and open positions count without waiting for an entry.
    public func followRouter(every interval: Duration) async {
        while !Task.isCancelled {
            await catchUp()
            await markToMarket()
            await flattenIfLocked()
            // Off the request path: an entry judged right after a closing fill waits for no more than the state.
            writeGrades()
            try? await Task.sleep(for: interval)
        }
    }

    /// Takes routerd's account equity (open positions at their marks) for the loss limits; saved when it sets
    /// the day's start, moves the intraday peak or changes the state.
    public func markToMarket() async {
        guard let ledger else { return }
        // Fills counted while the account is read are newer than its marks (`MindsetEngine.takeMarks`).
        let countedBefore = engine.countedFillSequence
        let account: AccountSummary
        do {
            account = try await ledger.account()
        } catch {
            // Not known to be trading: flattening waits (an operator's pause may be why the account fails).
            routerTradingEnabled = nil
            logger.debug("cannot read routerd's account; the limits use the closed trades alone meanwhile", metadata: ["error": "\(error)"])
            return
        }
        routerTradingEnabled = account.tradingEnabled
        // From every account, whatever the engine takes of it: the revenge cap and the closed trades' rates need them.
        let (quotesBefore, closedBefore, resultsBefore) = (engine.state.quoteAssets, engine.state.closedInAccount, engine.state.recentResults)
        engine.noteQuoteAssets(of: account.marks ?? [])
        engine.takeRates(of: account.marks ?? [], currency: account.currency)
        let quotesChanged = engine.state.quoteAssets != quotesBefore || engine.state.closedInAccount != closedBefore
            || engine.state.recentResults != resultsBefore
        guard account.unvalued.isEmpty else {
            // Its rates may have converted a closed trade that waited for one: the limits judge the day again.
            if engine.state.closedInAccount != closedBefore {
                engine.judgeAgain(wallClock: checked().wallClock)
                announceTransitions()
            }
            if quotesChanged { saveThenArchive() }
            // Part of the account has no price yet: its equity would look like a loss (or a gain) it is not.
            logger.warning("routerd's account has unvalued assets; equity not taken", metadata: ["unvalued": "\(account.unvalued)"])
            return
        }
        let check = checked()
        let scopeBefore = engine.state.equityScope
        guard let (changed, _) = engine.markToMarket(equity: account.equity, currency: account.currency, scope: account.scope,
                                                     marks: account.marks, shortAssets: Set((account.shortfalls ?? []).map(\.asset)),
                                                     marksCountedThrough: countedBefore,
                                                     wallClock: check.wallClock) else {
            logger.error("routerd's account is in another currency than the day's start; equity not taken until the reset", metadata: [
                "currency": "\(account.currency)", "start_currency": "\(engine.state.equityCurrency ?? "-")",
            ])
            if quotesChanged { saveThenArchive() }
            return
        }
        lastEquityRead = check.wallClock
        if let scope = account.scope, scopeBefore != nil, scopeBefore != scope {
            let start = engine.state.startOfDayEquity.map { "\($0)" } ?? "-"
            let how = engine.state.startOfDayEquity == account.equity ? "taken anew" : "the live account's own from earlier today"
            logger.notice("routerd's account changed scope; the day's start-of-day equity is \(how) (locks in force stay)", metadata: [
                "from": "\(scopeBefore ?? "-")", "to": "\(scope)", "start_of_day_equity": "\(start)",
            ])
        }
        let leftOut = engine.positionsLeftOut
        if leftOut != loggedPositionsLeftOut {
            loggedPositionsLeftOut = leftOut
            if leftOut.isEmpty {
                logger.notice("every open position is valued again for the day's loss limits")
            } else {
                logger.warning("open positions left out of the open positions' measure of the day's P&L: no price or rate, or a coin the venue holds less of than the books",
                               metadata: ["positions": "\(leftOut.joined(separator: ", "))"])
            }
        }
        announceTransitions()
        if changed || quotesChanged { saveThenArchive() }
    }

    /// While LOCKED with `on_locked: flatten` by an admin or a limit, closes every open position of the
    /// strategies (mindsetd's own, from the fill log as counted to its end within three polls): the position's
    /// working reduce-only orders are cancelled, then a reduce-only market order closes it whole. Nothing is
    /// sent while routerd's trading is paused (an operator's stop stops this too), nor for a lock that only says
    /// the state is unknown (docs/mindset.md, "Flatten on LOCKED").
    public func flattenIfLocked() async {
        guard !flattening, let ledger, flattensNow else { return }
        guard ledgerIsFresh, !lastCatchUpFailed else {
            logger.warning("LOCKED with on_locked: flatten, but routerd's fill log is not read to its end: positions may be stale, nothing sent")
            return
        }
        guard routerTradingEnabled == true else {
            logger.notice("LOCKED with on_locked: flatten, but routerd's trading is paused or its account unreadable: nothing sent until it is known to trade")
            return
        }
        // The trader's own positions (no strategy, or arsenald's manual orders) are theirs to close.
        let positions = (engine.state.fillLog?.positions ?? []).filter { !$0.strategyId.isEmpty && $0.strategyId != ManualTrading.strategyId }
        let rules: [SymbolRules]
        do {
            rules = try await ledger.symbolRules()
        } catch {
            // routerd checks every order against the rules anyway: without them a close is sent whole.
            logger.warning("cannot read routerd's symbol rules; flatten orders go unrounded", metadata: ["error": "\(error)"])
            rules = []
        }
        let requests = flattenSchedule.due(positions, rules: Dictionary(rules.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first }),
                                           now: wallClock())
        guard !requests.isEmpty else { return }
        flattening = true
        defer { flattening = false }
        logger.notice("LOCKED with on_locked: flatten: closing open positions", metadata: [
            "reason": "\(engine.state.lockReason ?? "-")", "orders": "\(requests.count)",
        ])
        for request in requests {
            // An unlock or a reset may come while orders are on their way: the rest are not sent.
            guard flattensNow else { break }
            let outcome: String
            var uncertain = false
            do {
                try await cancelWorking(request, at: ledger)
                guard flattensNow else { break }
                let order = try await ledger.place(request)
                outcome = order.rejectReason.map { "\(order.status.rawValue): \($0)" } ?? order.status.rawValue
                uncertain = order.status == .unknown || order.status == .sent
            } catch {
                outcome = "not placed: \(error)"
                // The order may have reached routerd (and the venue) all the same.
                uncertain = (error as? IPCError).map { $0.code == .timeout || $0.code == .connectionLost } ?? true
            }
            logger.notice("flatten order", metadata: [
                "client_order_id": "\(request.clientOrderId ?? "-")", "strategy": "\(request.strategyId ?? "-")", "symbol": "\(request.symbol)",
                "side": "\(request.side.rawValue)", "quantity": "\(request.quantity)", "outcome": "\(outcome)",
            ])
            flattenSchedule.record(request, outcome: outcome, uncertain: uncertain, at: wallClock())
        }
        let stuck = flattenSchedule.stuck
        if !stuck.isEmpty {
            logger.error("positions that flatten orders have not closed; they are tried again at longer intervals", metadata: [
                "positions": "\(stuck.joined(separator: ", "))",
            ])
        }
    }

    /// Whether LOCKED calls for flattening now: configured, and locked by an admin or a limit.
    private var flattensNow: Bool {
        engine.state.emotion == .locked && engine.rules.onLockedAction == .flatten
            && (engine.state.lockCause == .admin || engine.state.lockCause == .limit)
    }

    /// Cancels the position's working reduce-only orders (a resting take-profit would make routerd refuse the
    /// close as a flip): liquidation closes now, at the market.
    private func cancelWorking(_ request: PlaceOrderRequest, at ledger: any RouterLedger) async throws {
        guard let strategyId = request.strategyId else { return }
        for order in try await ledger.workingOrders(strategyId: strategyId, symbol: request.symbol) where order.reduceOnly {
            let outcome: String
            do {
                outcome = try await ledger.cancel(clientOrderId: order.clientOrderId).status.rawValue
            } catch {
                outcome = "not cancelled: \(error)"
                logger.warning("cannot cancel a working reduce-only order before flattening", metadata: [
                    "client_order_id": "\(order.clientOrderId)", "error": "\(error)",
                ])
            }
            flattenSchedule.recordCancel(order, outcome: outcome, at: wallClock())
        }
    }

    /// Whether anything but the clock moved.
    static func changedBeyondClock(_ state: MindsetState, from before: MindsetState) -> Bool {
        var comparable = state
        comparable.clock = before.clock
        comparable.lastEventTime = before.lastEventTime
        return comparable != before
    }

    /// Counts a closed trade and answers only once the state that counts it is saved: when it cannot be, the
    /// caller hears an error and sends the trade again (its trade id keeps it from counting twice).
    public func record(_ trade: ClosedTrade) throws -> MindsetSnapshot {
        try checked().trade(trade)
        engine.record(trade)
        announceTransitions()
        if let today = engine.state.dayStart, trade.closedAt < today, trade.pnl >= 0 {
            logger.notice("gain recorded after its day had ended; counted for that day, not today", metadata: [
                "request_id": "\(trade.requestId ?? "-")", "symbol": "\(trade.symbol)", "pnl": "\(MindsetEngine.format(trade.pnl))",
                "closed_at": "\(trade.closedAt)",
            ])
        } else {
            logger.info("trade recorded", metadata: [
                "request_id": "\(trade.requestId ?? "-")", "symbol": "\(trade.symbol)", "pnl": "\(MindsetEngine.format(trade.pnl))",
                "daily_pnl": "\(MindsetEngine.format(engine.state.dailyPnl))",
            ])
        }
        let snapshot = try savedSnapshot(unlessUnsaved: "the trade is counted in memory, send it again")
        writeGrades()
        return snapshot
    }

    /// Answers only once the lock is saved: a lock a restart would forget is not a lock, and the admin hears so.
    public func lock(_ request: LockRequest) throws -> MindsetSnapshot {
        let check = checked()
        if let time = request.time { try check.time(time, field: "time") }
        // Without a time: at the engine's clock, which it does not move.
        let change = request.time.map { engine.lock(reason: "admin: \(request.reason)", at: $0) }
            ?? engine.lockNow(reason: "admin: \(request.reason)", wallClock: wallClock())
        if change != nil { announceTransitions() }
        return try savedSnapshot(unlessUnsaved: "the lock holds until a restart, so no new entries are approved meanwhile")
    }

    /// Lifts an admin lock (or acknowledges a lock for unknown state), answering once that is saved; a limit's
    /// lock stays until the reset (`conflict`).
    public func unlock(_ request: UnlockRequest) throws -> MindsetSnapshot {
        _ = try engine.unlock(reason: request.reason)
        announceTransitions()
        return try savedSnapshot(unlessUnsaved: "the unlock is not saved, so no new entries are approved meanwhile")
    }

    /// Sets or extends a self-lockout, answering once it is saved: a lockout a restart would forget is not one.
    public func selfLockout(_ request: SelfLockoutRequest) throws -> MindsetSnapshot {
        let now = checked().wallClock
        var trial = engine
        try trial.selfLockout(until: request.until, reason: request.reason, now: now, longest: engine.rules.maxSelfLockout)
        // Its own file first: the lockout outlives the state file.
        do {
            try store.saveLockout(MindsetStore.Lockout(until: request.until, reason: request.reason))
        } catch {
            throw IPCError(.unavailable, "state_not_saved: self_lockout.json cannot be written (\(error)); no lockout was set")
        }
        engine = trial
        logger.notice("self-lockout", metadata: ["until": "\(request.until)", "reason": "\(request.reason)"])
        return try savedSnapshot(unlessUnsaved: "the lockout holds until a restart, so no new entries are approved meanwhile")
    }

    /// Saves the state, then answers with the snapshot; when it cannot be saved, the caller hears so
    /// (`state_not_saved: …` and `consequence`) rather than be told of a change a restart would forget.
    private func savedSnapshot(unlessUnsaved consequence: String) throws -> MindsetSnapshot {
        saveThenArchive()
        guard persistFailures == 0 else {
            throw IPCError(.unavailable, "state_not_saved: mindset_state.json cannot be written; \(consequence)")
        }
        return snapshot()
    }

    /// `mindset.state`, as of today: when the reset has passed with no event since, the state is shown rolled
    /// over on the wall clock. Shown only, not saved: a host clock stepped forward and back must not move the
    /// saved day (events and the account poll move it, bounded as they are).
    public func currentState() -> MindsetSnapshot {
        var today = engine
        today.ceiling = checked().ceiling
        _ = today.rollDay(onWallClock: wallClock())
        return snapshot(of: today)
    }

    public func snapshot() -> MindsetSnapshot {
        snapshot(of: engine)
    }

    private func snapshot(of engine: MindsetEngine) -> MindsetSnapshot {
        let state = engine.state
        return MindsetSnapshot(
            emotionState: state.emotion.rawValue, lockReason: state.lockReason, dayStart: state.dayStart,
            dailyPnl: state.dailyPnl, trades: state.trades, wins: state.wins, losses: state.losses,
            winStreak: state.winStreak, lossStreak: state.lossStreak,
            dailyLossLimit: engine.dailyLossLimit, startOfDayEquity: state.startOfDayEquity, equity: state.equity,
            judgedPnl: engine.judgedPnl, openPositionsChange: engine.openPositionsChange, positionsLeftOut: engine.positionsLeftOut, intradayPeak: state.intradayPeak, giveBackLimit: engine.rules.giveBackLimit,
            cooldownUntil: engine.revengeGuard.cooldownUntil, revengeWindowUntil: engine.revengeGuard.windowUntil,
            lastLossNotional: engine.revengeGuard.windowUntil == nil ? nil : state.lastLossNotional,
            lastLossSymbol: engine.revengeGuard.windowUntil == nil ? nil : state.lastLossSymbol,
            selfLockoutUntil: engine.selfLockout(at: wallClock())?.until, selfLockoutReason: engine.selfLockout(at: wallClock())?.reason,
            decisions: decisions, approvals: approvals,
            blocksByReason: blocks, recentTransitions: Array(state.transitions.suffix(10)), grades: engine.grades,
            onLocked: engine.rules.onLockedAction, flattenOrders: flattenSchedule.recent, flattenStuck: flattenSchedule.stuck,
            countedFillSequence: engine.countedFillSequence)
    }

    /// systemd's STATUS line. The day's P&L is the one the limits judge, in the account's currency (not `dailyPnl`,
    /// which adds each trade in its own quote asset).
    public var statusLine: String {
        let state = engine.state
        let pnl = engine.judgedPnl.map(MindsetEngine.format) ?? "out of range"
        return "state \(state.emotion.rawValue), day P&L \(pnl), trades \(state.trades), decisions \(decisions) (approved \(approvals))"
    }

    /// Healthy while state can be persisted; a daemon that cannot write its state must not keep deciding.
    public var isHealthy: Bool { persistFailures == 0 }

    private func persist() {
        do {
            try store.save(engine.state)
            persistFailures = 0
        } catch {
            persistFailures += 1
            logger.error("cannot persist mindset state", metadata: ["error": "\(error)"])
        }
    }

    /// Saves the state, and only then moves finished days to daily_metrics.json (and saves again): a day
    /// appended while the state that still lists it could not be saved would be appended again after a restart.
    private func saveThenArchive() {
        persist()
        guard persistFailures == 0, !engine.state.unarchivedDays.isEmpty else { return }
        archiveFinishedDays()
        persist()
    }

    /// Writes the grades to `strategy_confidence.json` when they changed (each poll); a failure is retried at the
    /// next (the file only ranks signals: the sizes come from the grades in the state).
    private func writeGrades() {
        guard engine.grades != writtenGrades else { return }
        do {
            try store.saveGrades(engine.grades)
            writtenGrades = engine.grades
        } catch {
            logger.error("cannot write \(GradeBook.fileName); will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Appends finished days to daily_metrics.json; on failure they stay in the state and are retried.
    private func archiveFinishedDays() {
        let days = engine.state.unarchivedDays
        guard !days.isEmpty else { return }
        do {
            if let corrupt = try store.append(days) {
                logger.error("daily_metrics.json was corrupt; moved aside and started anew", metadata: ["error": "\(corrupt)"])
            }
            engine.markArchived(days.count)
        } catch {
            logger.error("cannot append finished days to daily_metrics.json; will retry", metadata: ["error": "\(error)"])
        }
        for day in days where day.finalState != nil {
            logger.notice("daily reset", metadata: ["finished_day_pnl": "\(MindsetEngine.format(day.pnl))", "trades": "\(day.trades)"])
        }
    }

    static let notSaved = "state_not_saved: mindset_state.json cannot be written, so no new entries"
}
