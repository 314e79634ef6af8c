import BagbotTestSupport
import Foundation
import BagbotDomain
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

/// The open positions' change since the day's start, from mindsetd's own record of the strategies' positions at
/// routerd's marks (`MindsetEngine+OpenPositions.swift`): a deposit cannot hide an open loss behind the equity.
struct MindsetOpenPositionTests {
    let now = utc("2024-03-01T10:00:00Z")
    let dir: TempDir

    init() throws {
        dir = try TempDir()
    }

    func service(_ log: FakeFillLog, wall: NIOLockedValueBox<Date>) -> MindsetService {
        MindsetService(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50; $0.revengeCooldownSeconds = 0 },
                       store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger, ledger: log,
                       wallClock: { wall.withLockedValue { $0 } })
    }

    static func mark(_ symbol: String, _ price: ExactDecimal, base: String? = nil, quote: String = "USDT", rate: ExactDecimal? = 1)
        -> AccountSummary.SymbolMark {
        AccountSummary.SymbolMark(symbol: symbol, price: price, baseAsset: base, quoteAsset: quote, quoteRate: rate)
    }

    /// A service linked to an empty log holding 20 BTC bought at 100, its day started at equity 10,000 with BTC at 100.
    func holding() async -> (FakeFillLog, MindsetService) {
        let log = FakeFillLog()
        let mindset = service(log, wall: NIOLockedValueBox(now))
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 20, at: 100, time: now)
        #expect(await mindset.catchUp())
        log.equity.withLockedValue { $0 = 10_000 }
        log.marks.withLockedValue { $0 = [Self.mark("BTCUSDT", 100)] }
        await mindset.markToMarket()
        return (log, mindset)
    }

    @Test("a deposit while a position loses: the open loss still reaches the daily limit and locks")
    func depositDoesNotHideAnOpenLoss() async throws {
        let (log, mindset) = await holding()
        // BTC halves: the position is 1,000 down (the limit). The trader deposited 5,000 meanwhile: equity is up 4,000.
        log.equity.withLockedValue { $0 = 14_000 }
        log.marks.withLockedValue { $0 = [Self.mark("BTCUSDT", 50)] }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.openPositionsChange == -1_000)
        #expect(snapshot.judgedPnl == -1_000, "judged \(String(describing: snapshot.judgedPnl))")
        #expect(snapshot.emotionState == "LOCKED")
        #expect(snapshot.lockReason?.hasPrefix("daily loss limit hit") == true)
    }

    @Test("a close moves the position's loss from the open side to the closed trades: counted once, not twice")
    func closeCountsOnce() async throws {
        let (log, mindset) = await holding()
        log.equity.withLockedValue { $0 = 14_400 }
        log.marks.withLockedValue { $0 = [Self.mark("BTCUSDT", 70)] }
        await mindset.markToMarket()
        #expect(await mindset.snapshot().judgedPnl == -600)
        // Sold at 70 and counted before routerd's next account: the marks are older than the fill, the measure waits.
        log.append(.sell, 20, at: 70, time: now.addingTimeInterval(5))
        #expect(await mindset.catchUp())
        let counted = await mindset.snapshot()
        #expect(counted.dailyPnl == -600 && counted.openPositionsChange == nil && counted.judgedPnl == -600)
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.openPositionsChange == 0)
        #expect(snapshot.judgedPnl == -600, "-1,200 would lock on a loss of 600")
        #expect(snapshot.emotionState != "LOCKED")
    }

    @Test("without a mark for an open position it is left out (start and all), and the equity's measure still judges")
    func missingMark() async throws {
        let (log, mindset) = await holding()
        log.equity.withLockedValue { $0 = 9_200 }
        log.marks.withLockedValue { $0 = [Self.mark("ETHUSDT", 50)] }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.openPositionsChange == 0 && snapshot.judgedPnl == -800)
        #expect(snapshot.positionsLeftOut == ["micro_trend|BTCUSDT"])
    }

    func engine(positions: [StrategyPosition], scope: String? = nil, live: Bool = false) -> MindsetEngine {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: now)
        engine.state.fillLog = FillLogPosition(databaseId: FillLogIdentity.scoped("db", live: live), countedThrough: 3, historyThrough: 3,
                                               historyBefore: now, positions: positions)
        return engine
    }

    @Test("shorts, fees paid opening and another quote currency are valued in the account's currency; a coin the venue lacks is not")
    func valuation() throws {
        let long = StrategyPosition(strategyId: "a", symbol: "BTCUSDT", quantity: 2, averagePrice: 100, cost: 200, openFees: 1)
        let short = StrategyPosition(strategyId: "b", symbol: "ETHUSDT", quantity: -3, averagePrice: 50, cost: 150)
        let cross = StrategyPosition(strategyId: "c", symbol: "ETHBTC", quantity: 10, averagePrice: ExactDecimal("0.05")!, cost: ExactDecimal("0.5")!)
        var engine = engine(positions: [long, short, cross])
        engine.marks = Dictionary(uniqueKeysWithValues: [
            Self.mark("BTCUSDT", 110, base: "BTC"), Self.mark("ETHUSDT", 40, base: "ETH"),
            Self.mark("ETHBTC", ExactDecimal("0.04")!, base: "ETH", quote: "BTC", rate: 1_000),
        ].map { ($0.symbol, $0) })
        #expect(engine.pnl(of: long) == 19, "220 - 200 - 1")
        #expect(engine.pnl(of: short) == 30, "150 - 120")
        #expect(engine.pnl(of: cross) == -100, "(0.4 - 0.5) BTC × 1,000")
        engine.marks["ETHBTC"]?.quoteRate = nil
        #expect(engine.pnl(of: cross) == nil, "a quote asset without a rate")
        // A live venue holds less BTC than the books (withdrawn, sold by hand): the position is not valued.
        engine.shortAssets = ["BTC"]
        #expect(engine.pnl(of: long) == nil && engine.pnl(of: short) == 30)
        // Positions of the live log while the account is paper's (or the other way round), or being read again: not whole.
        engine.state.equityScope = "paper"
        engine.state.fillLog?.databaseId = FillLogIdentity.scoped("db", live: true)
        #expect(!engine.positionsAreComplete)
        engine.state.equityScope = "live"
        #expect(engine.positionsAreComplete)
        engine.state.fillLog?.historyThrough = 9
        #expect(!engine.positionsAreComplete)
    }

    @Test("a coin the venue no longer holds (withdrawn) leaves the measure with its start: its fall is no loss of the day")
    func shortfallLeavesTheMeasure() throws {
        var engine = engine(positions: [StrategyPosition(strategyId: "manual", symbol: "BTCUSDT", quantity: 1, averagePrice: 60_000, cost: 60_000)])
        _ = engine.markToMarket(equity: 100_000, currency: "USD", marks: [Self.mark("BTCUSDT", 60_000, base: "BTC")], wallClock: now)
        _ = engine.markToMarket(equity: 100_000, currency: "USD", marks: [Self.mark("BTCUSDT", 57_000, base: "BTC")], shortAssets: ["BTC"],
                                wallClock: now)
        #expect(engine.openPositionsChange == 0 && engine.state.emotion != .locked, "not -3,000")
        _ = engine.markToMarket(equity: 100_000, currency: "USD", marks: [Self.mark("BTCUSDT", 57_000, base: "BTC")], wallClock: now)
        #expect(engine.openPositionsChange == -3_000, "held again: its move since the day's start counts")
    }

    @Test("each position's start is the day's: taken again after the reset, and after a switch of scope")
    func startFollowsTheDay() throws {
        var engine = engine(positions: [StrategyPosition(strategyId: "a", symbol: "BTCUSDT", quantity: 10, averagePrice: 100, cost: 1_000)],
                            live: true)
        _ = engine.markToMarket(equity: 5_000, currency: "USD", scope: "live", marks: [Self.mark("BTCUSDT", 90)], wallClock: now)
        #expect(engine.state.openStarts?.positions == ["a|BTCUSDT": -100] && engine.openPositionsChange == 0)
        _ = engine.markToMarket(equity: 5_000, currency: "USD", scope: "live", marks: [Self.mark("BTCUSDT", 60)], wallClock: now)
        #expect(engine.openPositionsChange == -300 && engine.judgedPnl == -300)
        // To paper: the live log's positions are not the paper account's.
        _ = engine.markToMarket(equity: 100_000, currency: "USD", scope: "paper", marks: [Self.mark("BTCUSDT", 60)], wallClock: now)
        #expect(engine.state.openStarts == nil && engine.openPositionsChange == nil && engine.judgedPnl == 0)
        // Back to live: the positions start again (the equity's measure takes the live start of the day back).
        _ = engine.markToMarket(equity: 4_500, currency: "USD", scope: "live", marks: [Self.mark("BTCUSDT", 55)], wallClock: now)
        #expect(engine.state.openStarts?.positions == ["a|BTCUSDT": -450] && engine.judgedPnl == -500)
        // The next day measures from its first marks.
        let tomorrow = now.addingTimeInterval(86_400)
        _ = engine.markToMarket(equity: 4_500, currency: "USD", scope: "live", marks: [Self.mark("BTCUSDT", 55)], wallClock: tomorrow)
        #expect(engine.openPositionsChange == 0 && engine.judgedPnl == 0)
    }

    @Test("a gain dated before the reset and read after the day's first marks goes to its day, and its position's start with it")
    func lateGainTakesItsStart() async throws {
        let evening = utc("2024-03-01T23:00:00Z"), midnight = utc("2024-03-02T00:00:00Z")
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 150; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: evening)
        let log = FakeFillLog()
        #expect(engine.count(try await log.fills(after: 0, limit: 100), ceiling: nil, wallClock: evening).outcome == .relinked)
        log.append(.buy, 20, at: 100, time: evening)
        _ = engine.count(try await log.fills(after: engine.nextFillPageAfter, limit: 100), ceiling: nil, wallClock: evening)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 100)], wallClock: evening)
        // The new day's first reading: the position is 200 up, its start.
        _ = engine.markToMarket(equity: 10_200, currency: "USD", marks: [Self.mark("BTCUSDT", 110)], wallClock: midnight.addingTimeInterval(1))
        #expect(engine.state.openStarts?.positions.values.first == 200)
        // Its take-profit filled at 23:59:59, written to the log only now.
        log.append(.sell, 20, at: 110, time: midnight.addingTimeInterval(-1))
        _ = engine.count(try await log.fills(after: engine.nextFillPageAfter, limit: 100), ceiling: nil, wallClock: midnight.addingTimeInterval(2))
        #expect(engine.state.dailyPnl == 0, "yesterday's gain")
        _ = engine.markToMarket(equity: 10_200, currency: "USD", marks: [Self.mark("BTCUSDT", 110)], wallClock: midnight.addingTimeInterval(3))
        #expect(engine.openPositionsChange == 0 && engine.judgedPnl == 0, "-200 would lock the day on yesterday's gain")
        #expect(engine.state.emotion != .locked)
    }

    var midnight: Date { utc("2024-03-02T00:00:00Z") }

    /// An engine linked to `log` at 23:00 with 20 BTC bought at 100 then, and the new day's first marks at `price`.
    func newDay(_ log: FakeFillLog, price: ExactDecimal, limit: ExactDecimal = 150) -> MindsetEngine {
        let evening = utc("2024-03-01T23:00:00Z")
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = limit; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: evening)
        let linked = engine.count(log.page(after: 0), ceiling: nil, wallClock: evening).outcome
        #expect(linked == .relinked)
        log.append(.buy, 20, at: 100, time: evening)
        _ = engine.count(log.page(after: engine.nextFillPageAfter), ceiling: nil, wallClock: evening)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 100)], wallClock: evening)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", price)], wallClock: midnight.addingTimeInterval(1))
        return engine
    }

    /// Counts what `log` has since, then takes marks at `price`.
    func countAndMark(_ engine: inout MindsetEngine, _ log: FakeFillLog, price: ExactDecimal, also: [AccountSummary.SymbolMark] = []) {
        _ = engine.count(log.page(after: engine.nextFillPageAfter), ceiling: nil, wallClock: midnight.addingTimeInterval(2))
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", price)] + also, wallClock: midnight.addingTimeInterval(3))
    }

    @Test("part of a position sold at a gain dated before the reset: that part's share of the start goes to its day")
    func partialLateGain() {
        let log = FakeFillLog()
        var engine = newDay(log, price: 110)
        log.append(.sell, 15, at: 110, time: midnight.addingTimeInterval(-1))
        countAndMark(&engine, log, price: 110)
        #expect(engine.state.openStarts?.positions.values.first == 50, "200 × 5 / 20 left with the 5 held")
        #expect(engine.openPositionsChange == 0 && engine.state.emotion != .locked, "-150 would lock on no move at all")
    }

    @Test("a close in parts dated before the reset, a gain in sum: every part's move of the start goes to that day, as the trade does")
    func partsOfALateGain() {
        let log = FakeFillLog()
        var engine = newDay(log, price: 99)
        #expect(engine.state.openStarts?.positions.values.first == -20)
        log.append(.sell, 10, at: ExactDecimal("102.5")!, time: midnight.addingTimeInterval(-2), order: "bb-exit")
        log.append(.sell, 10, at: ExactDecimal("99.999")!, time: midnight.addingTimeInterval(-1), order: "bb-exit")
        countAndMark(&engine, log, price: 99)
        #expect(engine.state.dailyPnl == 0, "+24.99 in sum: yesterday's")
        #expect(engine.state.closedInAccount?.startsOfClosed == 0 && engine.openPositionsChange == 0, "not +10 from the losing part's share")
        #expect(engine.judgedPnl == 0)
    }

    @Test("an entry dated before the reset, read after the day's first marks, starts at the next marks, not at its price")
    func lateEntryStartsAtTheNextMarks() {
        let log = FakeFillLog()
        var engine = newDay(log, price: 100)
        log.append(.buy, 20, at: 100, time: midnight.addingTimeInterval(-1200), symbol: "ETHUSDT")
        countAndMark(&engine, log, price: 100, also: [Self.mark("ETHUSDT", 90)])
        #expect(engine.state.openStarts?.positions["micro_trend|ETHUSDT"] == -200)
        #expect(engine.openPositionsChange == 0 && engine.state.emotion != .locked, "yesterday's fall is not today's loss")
    }

    @Test("marks read while a fill was counted are older than it: no start is taken at them, and the measure waits")
    func marksOlderThanAFill() throws {
        var engine = engine(positions: [StrategyPosition(strategyId: "a", symbol: "BTCUSDT", quantity: 10, averagePrice: 61_000, cost: 610_000)])
        _ = engine.markToMarket(equity: 1_000_000, currency: "USD", marks: [Self.mark("BTCUSDT", 60_000)], marksCountedThrough: 2, wallClock: now)
        #expect(engine.state.openStarts == nil && engine.openPositionsChange == nil, "not a start of -10,000")
        _ = engine.markToMarket(equity: 1_000_000, currency: "USD", marks: [Self.mark("BTCUSDT", 61_000)], marksCountedThrough: 3, wallClock: now)
        #expect(engine.openPositionsChange == 0)
    }

    @Test("while the measure waits for marks newer than a fill, the day's peak is not raised by the other two (a deposit in the equity)")
    func peakWaitsForTheMeasure() throws {
        var engine = MindsetEngine(rules: makeRules {
            $0.dailyLossLimit = 10_000; $0.dailyLossLimitPercent = 50; $0.giveBackLimit = 500; $0.revengeCooldownSeconds = 0
        })
        _ = engine.advance(to: now)
        engine.state.fillLog = FillLogPosition(databaseId: "db", countedThrough: 3, historyThrough: 3, historyBefore: now, positions: [
            StrategyPosition(strategyId: "a", symbol: "BTCUSDT", quantity: 10, averagePrice: 100, cost: 1_000),
        ])
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 100)], wallClock: now)
        // 2,000 deposited; the position 600 down.
        _ = engine.markToMarket(equity: 11_400, currency: "USD", marks: [Self.mark("BTCUSDT", 40)], wallClock: now)
        #expect(engine.judgedPnl == -600)
        // A winning trade of another position counted before the next account: the measure waits.
        engine.state.fillLog?.countedThrough = 4
        engine.record(trade(pnl: 700, at: now.addingTimeInterval(1)))
        #expect(engine.state.intradayPeak == 0, "700 is not the day: the open loss is not in it \(engine.state.emotion) \(engine.state.lockReason ?? "") \(String(describing: engine.judgedPnl))")
        _ = engine.markToMarket(equity: 12_100, currency: "USD", marks: [Self.mark("BTCUSDT", 40)], wallClock: now)
        #expect(engine.judgedPnl == 100 && engine.state.intradayPeak == 100, "\(engine.state.intradayPeak) \(engine.state.lockReason ?? "")")
        #expect(engine.state.emotion != .locked, "600 'given back' from a peak the day never had")
    }

    @Test("a position left out (its mark gone) keeps its last valued move in the measure, not dropped with it")
    func leftOutKeepsItsLastMove() throws {
        var engine = engine(positions: [
            StrategyPosition(strategyId: "a", symbol: "BTCUSDT", quantity: 10, averagePrice: 100, cost: 1_000),
            StrategyPosition(strategyId: "a", symbol: "ETHUSDT", quantity: 10, averagePrice: 100, cost: 1_000),
        ])
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 100), Self.mark("ETHUSDT", 100)], wallClock: now)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 400), Self.mark("ETHUSDT", 90)], wallClock: now)
        #expect(engine.openPositionsChange == 2_900)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("ETHUSDT", 40)], wallClock: now)
        #expect(engine.openPositionsChange == 2_400, "BTCUSDT's +3,000 kept: not -600 alone")
        #expect(engine.positionsLeftOut == ["a|BTCUSDT"])
        // Kept with the state: after a restart it still counts once marks come.
        var restarted = MindsetEngine(rules: engine.rules, state: engine.state)
        _ = restarted.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("ETHUSDT", 40)], wallClock: now)
        #expect(restarted.openPositionsChange == 2_400)
        // Half of it sold: half of its last move stays (its start's half went with the trade).
        restarted.followStart(StartMove(key: "a|BTCUSDT", before: 10, after: 5, datedToday: true), countsToday: true)
        #expect(restarted.state.openStarts?.lastValued["a|BTCUSDT"] == 1_500)
    }

    static func usdjpy(_ price: ExactDecimal) -> AccountSummary.SymbolMark {
        mark("USDJPY", price, base: "USD", quote: "JPY", rate: ExactDecimal("0.0067")!)
    }

    /// An engine that counted 10,000 dollars bought at 150 yen and sold at 149.85 (1,500 yen lost, about 10 dollars).
    /// `ratesFirst`: routerd's account, with the yen's rate, read before the trade.
    func yenLoss(_ log: FakeFillLog, limit: ExactDecimal = 1_000, ratesFirst: Bool) -> MindsetEngine {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = limit; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: now)
        _ = engine.count(log.page(after: 0), ceiling: nil, wallClock: now)
        if ratesFirst { _ = engine.markToMarket(equity: 100_000, currency: "USD", marks: [Self.usdjpy(150)], wallClock: now) }
        log.append(.buy, 10_000, at: 150, time: now, symbol: "USDJPY")
        log.append(.sell, 10_000, at: ExactDecimal("149.85")!, time: now.addingTimeInterval(60), symbol: "USDJPY")
        _ = engine.count(log.page(after: engine.nextFillPageAfter), ceiling: nil, wallClock: now.addingTimeInterval(60))
        return engine
    }

    @Test("a loss in a pair quoted in yen counts in the daily loss limit at the yen's rate, not 150 times over")
    func yenQuotedLossAtItsRate() throws {
        var engine = yenLoss(FakeFillLog(), ratesFirst: true)
        _ = engine.markToMarket(equity: ExactDecimal("99989.95")!, currency: "USD", marks: [Self.usdjpy(ExactDecimal("149.85")!)],
                                wallClock: now.addingTimeInterval(61))
        #expect(engine.state.dailyPnl == -1_500, "the fills' own figure, in yen")
        #expect(engine.closedTradesPnl == ExactDecimal("-10.05")!, "the closed trades' own measure, not the equity's")
        #expect(engine.judgedPnl == ExactDecimal("-10.05")!, "1,500 yen at 0.0067 dollars")
        #expect(engine.state.emotion != .locked, "\(engine.state.lockReason ?? "")")
    }

    @Test("a yen loss counted before the yen's rate is known (a restart) counts as it is meanwhile: closed, never open")
    func yenQuotedLossBeforeItsRate() throws {
        let engine = yenLoss(FakeFillLog(), ratesFirst: false)
        #expect(engine.state.closedInAccount?.unconverted == ["USDJPY": -1_500])
        #expect(engine.judgedPnl == -1_500)
        #expect(engine.state.emotion == .locked, "no rate to tell 1,500 yen from 1,500 dollars: the limit holds")
    }

    @Test("a trade waiting for its rate converts at the next account's rates even when that account is not valued whole")
    func waitingTradeConvertsAtAnUnvaluedAccount() throws {
        var engine = yenLoss(FakeFillLog(), limit: 100_000, ratesFirst: false)
        #expect(engine.closedTradesPnl == -1_500)
        engine.noteQuoteAssets(of: [Self.usdjpy(ExactDecimal("149.85")!)])
        #expect(engine.closedTradesPnl == -1_500, "a quote asset known, its rate not yet")
        // An account in another currency than the day's start: its rates are not the day's.
        engine.state.equityCurrency = "USD"
        engine.takeRates(of: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: ExactDecimal("0.0061")!)], currency: "EUR")
        #expect(engine.closedTradesPnl == -1_500)
        // An account with an unvalued asset gives its marks and rates, not its equity (mindsetd takes only these).
        engine.takeRates(of: [Self.usdjpy(ExactDecimal("149.85")!)], currency: "USD")
        #expect(engine.state.closedInAccount?.unconverted == [:])
        #expect(engine.closedTradesPnl == ExactDecimal("-10.05")!)
        // The next account without a rate for the yen: the converted trade stays converted.
        engine.takeRates(of: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: nil)], currency: "USD")
        #expect(engine.closedTradesPnl == ExactDecimal("-10.05")!)
    }

    @Test("mindsetd converts a yen loss at the rates of an account it does not take the equity of (an asset unvalued)")
    func serviceConvertsAtAnUnvaluedAccount() async throws {
        let log = FakeFillLog()
        let mindset = service(log, wall: NIOLockedValueBox(now))
        #expect(await mindset.catchUp(), "linked to an empty log")
        log.append(.buy, 10_000, at: 150, time: now, symbol: "USDJPY")
        log.append(.sell, 10_000, at: ExactDecimal("149.85")!, time: now.addingTimeInterval(60), symbol: "USDJPY")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().emotionState == "LOCKED", "1,500 yen with no rate to tell them from dollars")
        log.equity.withLockedValue { $0 = 10_000 }
        log.unvalued.withLockedValue { $0 = ["XYZ"] }
        // A first account names the yen as USDJPY's quote asset, without a rate for it yet.
        log.marks.withLockedValue { $0 = [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: nil)] }
        await mindset.markToMarket()
        #expect(await mindset.snapshot().judgedPnl == -1_500)
        log.marks.withLockedValue { $0 = [Self.usdjpy(ExactDecimal("149.85")!)] }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.startOfDayEquity == nil, "the equity of an account with an unvalued asset is not taken")
        #expect(snapshot.judgedPnl == ExactDecimal("-10.05")!, "\(String(describing: snapshot.judgedPnl))")
        let status = await mindset.statusLine
        #expect(status.contains("day P&L -10.05,"), "systemd's status says the judged figure: \(status)")
        // Saved converted: a restart before the next account does not count it as 1,500 dollars again.
        let restarted = service(log, wall: NIOLockedValueBox(now))
        #expect(await restarted.snapshot().judgedPnl == ExactDecimal("-10.05")!)
    }

    @Test("a loss in bitcoin converted at an account mindsetd takes the rates of only (an asset unvalued) locks the day then")
    func conversionAtAnUnvaluedAccountLocks() async throws {
        let log = FakeFillLog()
        let mindset = service(log, wall: NIOLockedValueBox(now))
        #expect(await mindset.catchUp(), "linked to an empty log")
        // 0.05 BTC lost on ETHBTC, counted before any rate: as it is, 0.05 of a dollar.
        log.append(.buy, 10, at: ExactDecimal("0.05")!, time: now, symbol: "ETHBTC")
        log.append(.sell, 10, at: ExactDecimal("0.045")!, time: now.addingTimeInterval(60), symbol: "ETHBTC")
        #expect(await mindset.catchUp())
        #expect(await mindset.snapshot().emotionState != "LOCKED")
        log.equity.withLockedValue { $0 = 10_000 }
        log.unvalued.withLockedValue { $0 = ["XYZ"] }
        log.marks.withLockedValue { $0 = [Self.ethbtc(ExactDecimal("0.045")!)] }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.judgedPnl == -3_000, "0.05 BTC at 60,000 dollars")
        #expect(snapshot.emotionState == "LOCKED" && snapshot.lockReason?.contains("daily loss limit") == true, "\(snapshot.lockReason ?? "")")
    }

    @Test("a gain counted in yen before its rate raises the day's peak as it is; converted, the peak gives the excess back: no give-back lock")
    func waitingGainLeavesNoPeakToGiveBack() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50; $0.giveBackLimit = 50 })
        _ = engine.advance(to: now)
        let log = FakeFillLog()
        _ = engine.count(log.page(after: 0), ceiling: nil, wallClock: now)
        // 15,000 yen won (about 100 dollars), counted before the yen's rate is known.
        log.append(.buy, 10_000, at: 150, time: now, symbol: "USDJPY")
        log.append(.sell, 10_000, at: ExactDecimal("151.5")!, time: now.addingTimeInterval(60), symbol: "USDJPY")
        _ = engine.count(log.page(after: engine.nextFillPageAfter), ceiling: nil, wallClock: now.addingTimeInterval(60))
        #expect(engine.state.closedInAccount?.unconverted == ["USDJPY": 15_000])
        #expect(engine.state.intradayPeak == 15_000, "as it is, until the rate comes")
        engine.noteQuoteAssets(of: [Self.usdjpy(ExactDecimal("151.5")!)])
        engine.takeRates(of: [Self.usdjpy(ExactDecimal("151.5")!)], currency: "USD")
        #expect(engine.closedTradesPnl == ExactDecimal("100.5")!)
        #expect(engine.state.intradayPeak == ExactDecimal("100.5")!, "15,000 less the 14,899.5 it was not worth")
        engine.judgeAgain(wallClock: now.addingTimeInterval(61))
        #expect(engine.state.emotion != .locked, "\(engine.state.lockReason ?? "")")
    }

    @Test("the day's trades converted into one currency take no rates in another, even before the day's equity is known")
    func convertedTradesKeepTheirCurrency() throws {
        var engine = yenLoss(FakeFillLog(), limit: 100_000, ratesFirst: false)
        engine.noteQuoteAssets(of: [Self.usdjpy(ExactDecimal("149.85")!)])
        #expect(engine.state.equityCurrency == nil)
        engine.takeRates(of: [Self.usdjpy(ExactDecimal("149.85")!)], currency: "USD")
        #expect(engine.state.closedInAccount?.currency == "USD" && engine.closedTradesPnl == ExactDecimal("-10.05")!)
        // routerd's account currency changed to euros: its rates convert nothing more into the dollars counted.
        engine.takeRates(of: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: ExactDecimal("0.0061")!)], currency: "EUR")
        #expect(engine.rate(of: "JPY") == ExactDecimal("0.0067")!, "the dollar rates stay")
        var restarted = MindsetEngine(rules: engine.rules, state: Self.withoutRates(engine.state))
        restarted.takeRates(of: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: ExactDecimal("0.0061")!)], currency: "EUR")
        #expect(restarted.rate(of: "JPY") == nil, "the trades' currency is kept with the state: after a restart too")
    }

    @Test("a closed trade no decimal can add to the day's trades in the account's currency locks the day, as one out of dailyPnl's range does")
    func closedTradesOutOfRangeLock() throws {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: now)
        var closed = ClosedInAccount(converted: 0)
        closed.unconverted = ["BTCUSDT": ExactDecimal("-900000000000000000")!]
        engine.state.closedInAccount = closed
        engine.record(trade(pnl: ExactDecimal("-200000000000000000")!, at: now.addingTimeInterval(1)))
        #expect(engine.state.emotion == .locked)
        #expect(engine.state.lockReason?.contains("out of range") == true, "\(engine.state.lockReason ?? "")")
    }

    static func ethbtc(_ price: ExactDecimal) -> AccountSummary.SymbolMark {
        mark("ETHBTC", price, base: "ETH", quote: "BTC", rate: 60_000)
    }

    /// 10 ETHBTC bought at 0.05 BTC (fee 0.0005 BTC) at 23:00, BTC at 60,000 dollars; the new day's first marks at 0.055:
    /// the position is 0.0495 BTC up, 2,970 dollars.
    func ethbtcCarriedOvernight(_ log: FakeFillLog) -> MindsetEngine {
        let evening = utc("2024-03-01T23:00:00Z")
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50 })
        _ = engine.advance(to: evening)
        _ = engine.count(log.page(after: 0), ceiling: nil, wallClock: evening)
        log.append(.buy, 10, at: ExactDecimal("0.05")!, fee: ExactDecimal("0.0005")!, time: evening, symbol: "ETHBTC")
        _ = engine.count(log.page(after: engine.nextFillPageAfter), ceiling: nil, wallClock: evening)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.ethbtc(ExactDecimal("0.05")!)], wallClock: evening)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.ethbtc(ExactDecimal("0.055")!)], wallClock: midnight.addingTimeInterval(1))
        return engine
    }

    @Test("a trade in a pair quoted in another asset than the account's counts at its rate beside its position's start")
    func closedTradesInTheAccountCurrency() throws {
        let log = FakeFillLog()
        var engine = ethbtcCarriedOvernight(log)
        #expect(engine.state.openStarts?.positions["micro_trend|ETHBTC"] == 2_970)
        // Sold today at that price: 0.0495 BTC of P&L, 2,970 dollars of which were made yesterday.
        log.append(.sell, 10, at: ExactDecimal("0.055")!, time: midnight.addingTimeInterval(2), symbol: "ETHBTC")
        countAndMark(&engine, log, price: 100, also: [Self.ethbtc(ExactDecimal("0.055")!)])
        #expect(engine.state.dailyPnl == ExactDecimal("0.0495")!)
        #expect(engine.state.closedInAccount?.converted == 2_970 && engine.state.closedInAccount?.startsOfClosed == 2_970)
        #expect(engine.openPositionsChange == 0)
        #expect(engine.judgedPnl == 0 && engine.state.emotion != .locked, "0.0495 - 2,970 would lock a day that made nothing")
    }

    /// The state as a build that did not save the rates left it.
    static func withoutRates(_ state: MindsetState) -> MindsetState {
        var state = state
        (state.quoteRates, state.quoteRatesCurrency) = (nil, nil)
        return state
    }

    @Test("a trade counted before its rate is known (restarted from a state without rates, routerd's account not read yet) waits for it, not counted at 1")
    func closedTradeWaitsForItsRate() throws {
        let log = FakeFillLog()
        let engine = ethbtcCarriedOvernight(log)
        // Restarted: no marks, no rates; the sale is counted first.
        var restarted = MindsetEngine(rules: engine.rules, state: Self.withoutRates(engine.state))
        log.append(.sell, 10, at: ExactDecimal("0.055")!, time: midnight.addingTimeInterval(2), symbol: "ETHBTC")
        _ = restarted.count(log.page(after: restarted.nextFillPageAfter), ceiling: nil, wallClock: midnight.addingTimeInterval(2))
        #expect(restarted.state.closedInAccount?.unconverted == ["ETHBTC": ExactDecimal("0.0495")!])
        #expect(restarted.state.emotion != .locked)
        _ = restarted.markToMarket(equity: 10_000, currency: "USD", marks: [Self.ethbtc(ExactDecimal("0.055")!)], wallClock: midnight.addingTimeInterval(3))
        #expect(restarted.state.closedInAccount?.converted == 2_970 && restarted.state.closedInAccount?.unconverted == [:])
        #expect(restarted.judgedPnl == 0 && restarted.state.emotion != .locked, "0.0495 counted as 0.0495 dollars would lock")
    }

    @Test("the rates are saved: after a restart the trades closed meanwhile are judged at them until routerd's first account converts them at its own")
    func ratesSaved() throws {
        let log = FakeFillLog()
        let engine = yenLoss(log, ratesFirst: true)
        // Restarted from the state as saved; a second yen loss closed while mindsetd was down is counted before any account.
        let saved = try JSONDecoder().decode(MindsetState.self, from: JSONEncoder().encode(engine.state))
        #expect(saved.quoteRatesCurrency == "USD")
        var restarted = MindsetEngine(rules: engine.rules, state: saved)
        #expect(restarted.rate(of: "JPY") == nil, "the saved rates convert nothing")
        log.append(.buy, 10_000, at: 150, time: now.addingTimeInterval(120), symbol: "USDJPY")
        log.append(.sell, 10_000, at: ExactDecimal("149.85")!, time: now.addingTimeInterval(180), symbol: "USDJPY")
        _ = restarted.count(log.page(after: restarted.nextFillPageAfter), ceiling: nil, wallClock: now.addingTimeInterval(180))
        #expect(restarted.state.closedInAccount?.unconverted == ["USDJPY": -1_500], "waiting for a fresh rate")
        #expect(restarted.closedTradesPnl == ExactDecimal("-20.10")!, "judged at the saved 0.0067 meanwhile, not as 1,500")
        #expect(restarted.state.emotion != .locked, "\(restarted.state.lockReason ?? "")")
        // routerd's first account: the yen at 0.0070 now; the waiting trade converts at it, and the saved rates serve no more.
        _ = restarted.markToMarket(equity: ExactDecimal("99979.45")!, currency: "USD",
                                   marks: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: ExactDecimal("0.0070")!)],
                                   wallClock: now.addingTimeInterval(181))
        #expect(restarted.state.closedInAccount?.unconverted == [:])
        #expect(restarted.closedTradesPnl == ExactDecimal("-20.55")!, "10.05 and 1,500 at 0.0070")
    }

    @Test("a restart across the reset and a change of routerd's currency: the waiting trade is judged at the saved dollar rate, then converted at the euro one")
    func savedRatesOfAnotherCurrency() throws {
        let log = FakeFillLog()
        let engine = yenLoss(log, ratesFirst: true)
        var restarted = MindsetEngine(rules: engine.rules, state: engine.state)
        // The next day (the reset passed while mindsetd was down), a yen loss closed meanwhile; routerd now in euros.
        let nextDay = now.addingTimeInterval(86_400)
        log.append(.buy, 10_000, at: 150, time: nextDay, symbol: "USDJPY")
        log.append(.sell, 10_000, at: ExactDecimal("149.85")!, time: nextDay.addingTimeInterval(60), symbol: "USDJPY")
        _ = restarted.count(log.page(after: restarted.nextFillPageAfter), ceiling: nil, wallClock: nextDay.addingTimeInterval(60))
        #expect(restarted.state.closedInAccount?.unconverted == ["USDJPY": -1_500])
        #expect(restarted.closedTradesPnl == ExactDecimal("-10.05")!, "judged at the saved dollar rate while the day's currency is not known")
        restarted.noteQuoteAssets(of: [Self.usdjpy(ExactDecimal("149.85")!)])
        restarted.takeRates(of: [Self.mark("USDJPY", ExactDecimal("149.85")!, base: "USD", quote: "JPY", rate: ExactDecimal("0.0061")!)], currency: "EUR")
        #expect(restarted.state.closedInAccount?.currency == "EUR" && restarted.closedTradesPnl == ExactDecimal("-9.15")!,
                "converted at the euro rate, not kept in dollars")
    }

    @Test("gains judged at the saved rates give back to the peak only their excess over their conversion, whichever converts first")
    func savedRatesPeakExcess() throws {
        var state = MindsetState()
        state.dayStart = utc("2024-03-01T00:00:00Z")
        state.quoteAssets = ["USDJPY": "JPY", "EURJPY": "JPY"]
        (state.quoteRates, state.quoteRatesCurrency) = (["JPY": ExactDecimal("0.0067")!], "USD")
        var closed = ClosedInAccount()
        closed.unconverted = ["USDJPY": 3_000, "EURJPY": 3_000]
        state.closedInAccount = closed
        state.intradayPeak = ExactDecimal("40.2")!
        var engine = MindsetEngine(rules: makeRules { $0.giveBackLimit = 50 }, state: state)
        #expect(engine.closedTradesPnl == ExactDecimal("40.2")!, "3,000 yen twice at the saved 0.0067")
        // routerd's first account, now in euros (the reset passed): the yen at 0.0061.
        engine.takeRates(of: [Self.mark("USDJPY", 150, base: "USD", quote: "JPY", rate: ExactDecimal("0.0061")!)], currency: "EUR")
        #expect(engine.closedTradesPnl == ExactDecimal("36.6")!)
        #expect(engine.state.intradayPeak == ExactDecimal("36.6")!, "40.2 less 1.8 twice, not the second gain's 3,000 as it is")
    }

    @Test("the starts of positions closed today stay with the day's trades when the open positions start again (a switch of scope)")
    func startsOfClosedOutlastAScopeSwitch() throws {
        let log = FakeFillLog()
        var engine = newDay(log, price: 250, limit: 5_000)
        #expect(engine.state.openStarts?.positions.values.first == 3_000)
        // Sold today at 150: +1,000 from entry, -2,000 on the day.
        log.append(.sell, 20, at: 150, time: midnight.addingTimeInterval(2))
        countAndMark(&engine, log, price: 150)
        #expect(engine.judgedPnl == -2_000)
        // routerd now says its scope: the open positions start again; the day's closed side does not.
        _ = engine.markToMarket(equity: 10_000, currency: "USD", scope: "paper", marks: [Self.mark("BTCUSDT", 150)], wallClock: midnight.addingTimeInterval(4))
        #expect(engine.state.openStarts?.positions == [:])
        #expect(engine.judgedPnl == -2_000, "+1,000 would hide 3,000 of the day's losses")
    }

    @Test("a symbol's quote asset is saved: after a restart its trade converts at another symbol's rate for that asset")
    func quoteAssetsSaved() throws {
        var engine = engine(positions: [])
        _ = engine.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("SOLUSDT", 20), Self.mark("BTCUSDT", 100)], wallClock: now)
        var restarted = MindsetEngine(rules: engine.rules, state: Self.withoutRates(engine.state))
        restarted.record(trade(pnl: -30, at: now.addingTimeInterval(1), symbol: "SOLUSDT"))
        #expect(restarted.state.closedInAccount?.unconverted == ["SOLUSDT": -30], "no rate in memory yet")
        // SOLUSDT has no price now (its strategy stopped): BTCUSDT gives USDT's rate.
        _ = restarted.markToMarket(equity: 10_000, currency: "USD", marks: [Self.mark("BTCUSDT", 100)], wallClock: now.addingTimeInterval(2))
        #expect(restarted.state.closedInAccount?.unconverted == [:] && restarted.state.closedInAccount?.converted == -30)
    }

    @Test("a state saved with the starts of closed positions among the open ones' (an earlier build) keeps them with the day's trades")
    func earlierStateKeepsItsClosedStarts() throws {
        var state = MindsetState()
        state.dayStart = now
        state.dailyPnl = 1_000
        state.openStarts = OpenPositionStarts()
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(state)) as? [String: Any])
        json["openStarts"] = ["positions": [String: String](), "closed": "3000"]
        json["closedInAccount"] = ["converted": "1000", "unconverted": [String: String]()]
        let saved = try JSONDecoder().decode(MindsetState.self, from: JSONSerialization.data(withJSONObject: json))
        let engine = MindsetEngine(rules: makeRules(), state: saved)
        #expect(engine.state.closedInAccount?.startsOfClosed == 3_000 && engine.state.closedInAccount?.converted == 1_000)
        let written = try #require(String(data: JSONEncoder().encode(engine.state), encoding: .utf8))
        #expect(!written.contains("\"closed\""), "read, never written")
    }
}
