import Foundation
import Logging
import NIOConcurrencyHelpers
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import ArsenalCore
import MindsetCore
import RouterCore

/// `bagbot backtest`: recorded ticks through the same strategies, the same trade path (`TradeCoordinator`), the
/// same mindset engine and the paper venue's fill model, in one process and without sockets (docs/backtest.md).
public enum Backtest {
    /// What to run: the files, the window of market time, and the configuration (the same `bagbot.yaml` the
    /// daemons read, with the strategy choices of the command line already applied).
    public struct Plan: Sendable {
        public var files: [String]
        public var from: Date?
        public var to: Date?
        public var config: BagbotConfig

        public init(files: [String], from: Date? = nil, to: Date? = nil, config: BagbotConfig) {
            self.files = files
            self.from = from
            self.to = to
            self.config = config
        }
    }

    public struct Result: Sendable {
        public var report: BacktestReport
        /// Every fill, in the venue's order (`BacktestTradesCSV`).
        public var fills: [Fill]
    }

    /// The configuration sections a backtest reads.
    public static let sections: [any ConfigSection.Type] = [ArsenalSettings.self, MindsetSettings.self, RouterSettings.self]

    /// The overrides that make `--strategy` and `--set` what the configuration says: `--strategy ID` enables that
    /// strategy alone; `--set STRATEGY.PARAM=VALUE` sets a strategy's parameter (`arsenal.STRATEGY.PARAM`), and
    /// any other `--set KEY=VALUE` a key of `bagbot.yaml` as `bagbot up --set` does.
    public static func overrides(strategy: String?, settings: [String]) throws -> [String] {
        let ids = StrategyCatalog.strategies(from: ArsenalSettings()).map(\.id)
        var overrides: [String] = []
        if let strategy {
            guard ids.contains(strategy) else {
                throw BacktestError("--strategy \(strategy): no such strategy (registered: \(ids.joined(separator: ", ")))")
            }
            overrides += ids.map { "arsenal.\($0).enabled=\($0 == strategy)" }
        }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), let dot = setting[..<equals].firstIndex(of: ".") else {
                throw BacktestError("--set \(setting): expected STRATEGY.PARAMETER=VALUE or a configuration KEY=VALUE")
            }
            overrides.append(ids.contains(String(setting[..<dot])) ? "arsenal." + setting : setting)
        }
        return overrides
    }

    public static func run(_ plan: Plan, logger: Logger) async throws -> Result {
        let router = plan.config[RouterSettings.self]
        let rules = router.paperRules
        let venue = BacktestVenue(settings: PaperExchange.Settings(router), rules: rules)
        let mindset = BacktestMindset(rules: MindsetRules(plan.config[MindsetSettings.self]), venue: venue)
        let strategies = StrategyCatalog.strategies(from: plan.config[ArsenalSettings.self])
        let coordinator = TradeCoordinator(
            strategies: strategies, mindset: mindset, router: venue, logger: logger,
            manualMaxQuantity: plan.config[ArsenalSettings.self].manualMaxQuantity, runID: "bt")
        await coordinator.setSymbolRules(rules)
        let tickSizes = router.paper.symbols.mapValues(\.tickSize)
        let readers = try plan.files.map { try ReplayReader(path: $0, tradeSpreadBps: router.replay.tradeSpreadBps, tickSizes: tickSizes, mapped: true) }
        let record = SessionRecord()
        let poll = plan.config[MindsetSettings.self].fillPollSeconds
        await coordinator.run(BacktestSession(readers: readers, from: plan.from, to: plan.to, venue: venue, mindset: mindset,
                                              pollSeconds: poll, record: record))

        let fills = venue.allFills
        var ledger = PerformanceLedger(minimumQuantities: Dictionary(rules.map { ($0.symbol, $0.minQuantity) }, uniquingKeysWith: { first, _ in first }))
        for fill in fills { try ledger.apply(fill) }
        let counters = await coordinator.counters
        let tally = mindset.tally
        var blocked = tally.blocks
        for (code, count) in [("short_not_allowed", counters.shortsNotAllowed), ("below_minimum", counters.belowMinimum),
                              ("against_another_strategy", counters.entriesAgainstAnotherStrategy)] where count > 0 {
            blocked[code, default: 0] += count
        }
        for (reason, count) in venue.rejections { blocked["venue: " + reason, default: 0] += count }
        let performance = ledger.performance
        let trades = performance.reduce(0) { $0 + $1.trades }
        let wins = performance.reduce(0) { $0 + $1.wins }
        let enabled = await coordinator.strategyInfo().filter { $0.enabled }
        let session = record.contents
        let curve = session.curve
        let report = BacktestReport(
            sources: session.sources, from: session.first, to: session.last, ticks: session.ticks,
            strategies: enabled,
            signals: counters.signals, ordersPlaced: counters.ordersPlaced, ordersRejected: counters.ordersRejected, fills: fills.count,
            trades: trades, wins: wins, winRate: trades == 0 ? nil : Double(wins) / Double(trades),
            account: BacktestReport.Account(currency: router.account.currency, startEquity: curve.start, endEquity: curve.last,
                                            netPnl: curve.change, maxDrawdown: curve.maxDrawdown, sharpePerDay: curve.sharpePerDay),
            performance: performance, blocked: blocked,
            stateChanges: mindset.transitions.map {
                BacktestReport.StateChange(from: $0.from.rawValue, to: $0.to.rawValue, reason: $0.reason, at: $0.at)
            })
        return Result(report: report, fills: fills)
    }
}

/// What the session saw, read back after it ran (the session itself is handed to the coordinator).
final class SessionRecord: Sendable {
    struct Contents: Sendable {
        var sources: [BacktestReport.Source] = []
        var ticks = 0
        var first: Date?
        var last: Date?
        var curve = EquityCurve()
    }

    private let box = NIOLockedValueBox(Contents())
    var contents: Contents { box.withLockedValue { $0 } }
    func update(_ change: (inout Contents) -> Void) { box.withLockedValue(change) }
}

/// The files merged in market time (`TickMerge`, read ahead on its own thread by `TickPrefetch`); the venue sees
/// each tick before the strategies. As mindsetd follows routerd every `fill_poll_seconds`, the mindset counts the
/// fill log and takes the account's equity on that schedule (of market time) while a position is open, and each
/// minute; the equity curve is observed then and after each fill.
final class BacktestSession: TradingSession {
    private let prefetch: TickPrefetch
    private let venue: BacktestVenue
    private let mindset: BacktestMindset
    private let pollSeconds: Double
    private let record: SessionRecord
    /// What a tick changes, in one struct: a class's stored properties are each checked for exclusive access.
    private var progress = Progress()
    private var finished = false

    private struct Progress {
        var lastPoll: Int64?
        var curve = EquityCurve()
        var ticks = 0
        var first: Date?
        var last: Date?

        /// Counts a tick of market time `time`; true when it starts a new poll.
        mutating func advance(to time: Date, poll: Int64) -> Bool {
            ticks += 1
            if first == nil { first = time }
            last = time
            guard poll != lastPoll else { return false }
            lastPoll = poll
            return true
        }
    }

    init(readers: [ReplayReader], from: Date?, to: Date?, venue: BacktestVenue, mindset: BacktestMindset, pollSeconds: Double,
         record: SessionRecord) {
        prefetch = TickPrefetch(TickMerge(readers: readers, from: from, to: to))
        self.venue = venue
        self.mindset = mindset
        self.pollSeconds = max(0.001, pollSeconds)
        self.record = record
    }

    deinit { prefetch.stop() }

    func nextTick() -> Tick? {
        guard let tick = prefetch.next() else {
            finish()
            return nil
        }
        venue.record(tick)
        let poll = Int64((tick.time.timeIntervalSince1970 / pollSeconds).rounded(.down))
        if progress.advance(to: tick.time, poll: poll), progress.curve.isNewMinute(tick.time) || venue.hasOpenPosition {
            follow(at: tick.time)
        }
        return tick
    }

    private func follow(at time: Date) {
        let equity = venue.equity()
        if let equity { progress.curve.observe(equity.value, at: time) }
        mindset.follow(equity: equity, at: time)
    }

    func updates() -> [RouterUpdate] {
        let updates = venue.takeUpdates()
        if let time = progress.last, updates.contains(where: { if case .fill = $0 { true } else { false } }), let equity = venue.equity() {
            progress.curve.observe(equity.value, at: time)
        }
        return updates
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        if let time = progress.last, let equity = venue.equity() { progress.curve.observe(equity.value, at: time) }
        let sources = prefetch.sources
        record.update { [progress] in
            $0 = SessionRecord.Contents(sources: sources, ticks: progress.ticks, first: progress.first, last: progress.last, curve: progress.curve)
        }
    }
}
