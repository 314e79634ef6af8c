import Foundation
import BagbotDomain
import Testing
@testable import MindsetCore

/// The grades weigh each trade's result in the account currency (`TradeResult`, `MindsetEngine.value(of:…)`): a
/// strategy trading USDJPY beside dollar pairs is graded on dollars, not on yen figures 150 times their worth.
struct MindsetGradeCurrencyTests {
    let now = utc("2024-03-01T10:00:00Z")

    static let btc = AccountSummary.SymbolMark(symbol: "BTCUSDT", price: 100, baseAsset: "BTC", quoteAsset: "USDT", quoteRate: 1)
    static let yen = yen(ExactDecimal("0.0067")!)
    /// USDJPY with no rate: routerd knows the symbol but cannot price the yen.
    static let yenUnrated = yen(nil)

    static func yen(_ rate: ExactDecimal?) -> AccountSummary.SymbolMark {
        AccountSummary.SymbolMark(symbol: "USDJPY", price: 150, baseAsset: "USD", quoteAsset: "JPY", quoteRate: rate)
    }

    func engine(state: MindsetState = MindsetState()) -> MindsetEngine {
        var engine = MindsetEngine(rules: makeRules { $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50; $0.maxConsecutiveLosses = 20 },
                                   state: state)
        _ = engine.advance(to: now)
        return engine
    }

    /// An engine that took routerd's account in dollars with `marks`: their quote assets and rates.
    func engine(rates marks: [AccountSummary.SymbolMark]) -> MindsetEngine {
        var engine = engine()
        engine.noteQuoteAssets(of: marks)
        engine.takeRates(of: marks, currency: "USD")
        return engine
    }

    /// The engine as mindsetd would start again from its saved state.
    func restarted(_ engine: MindsetEngine) throws -> MindsetEngine {
        let state = try JSONDecoder().decode(MindsetState.self, from: JSONEncoder().encode(engine.state))
        #expect(state.recentResults == engine.state.recentResults, "saved and read back whole")
        return MindsetEngine(rules: engine.rules, state: state)
    }

    func record(_ engine: inout MindsetEngine, _ results: [ExactDecimal], symbol: String = "BTCUSDT", from start: Double = 0) {
        for (index, pnl) in results.enumerated() {
            engine.record(trade(pnl: pnl, at: now.addingTimeInterval(start + Double(index)), symbol: symbol))
        }
    }

    func grade(asTheyAre results: [ExactDecimal], _ engine: MindsetEngine) -> GradeReport {
        GradeReport.of(results, grading: engine.rules.gradingRules, drawdownScale: 1_000)
    }

    @Test("a 15,000-yen win (100.5 dollars) does not outweigh 200 dollars of losses: graded in dollars")
    func yenWinInDollars() {
        var engine = engine(rates: [Self.btc, Self.yen])
        record(&engine, [-50, -50, -50, -50])
        record(&engine, [15_000], symbol: "USDJPY", from: 10)
        // In dollars: one win of 100.5 and four losses of 50: no edge (20 points, F); as they were, 70 (B).
        #expect(engine.grades.overall.grade == .f, "\(engine.grades.overall)")
        #expect(engine.grades.strategies["micro_trend"]?.grade == .f)
        #expect(engine.grades.overall.trades == 5)
        #expect(engine.state.recentResults?.overall.last == TradeResult(15_000, symbol: "USDJPY", rate: ExactDecimal("0.0067")!, currency: "USD"))
        #expect(grade(asTheyAre: [-50, -50, -50, -50, 15_000], engine).grade == .b, "the grade the yen would have made")
    }

    @Test("a result closed before its quote asset's rate is known is graded the tighter way, and takes the next account's rate, also after a restart")
    func waitingResultTakesItsRate() throws {
        var engine = engine(rates: [Self.btc, Self.yenUnrated])
        record(&engine, [-50, -50, -50, -50, -50])
        record(&engine, [15_000], symbol: "USDJPY", from: 10)
        #expect(engine.state.recentResults?.overall.last == TradeResult(15_000, symbol: "USDJPY"), "no rate yet")
        // As they are the six would grade B (the yen win hides the losses); the dollar ones alone grade F: F it is.
        #expect(grade(asTheyAre: [-50, -50, -50, -50, -50, 15_000], engine).grade == .b)
        #expect(engine.grades.overall.grade == .f && engine.grades.strategies["micro_trend"]?.grade == .f, "\(engine.grades)")
        #expect(engine.grades.overall.trades == 5, "the report of the dollar results")
        var again = try restarted(engine)
        #expect(again.grades == engine.grades, "the same grades after a restart, before routerd's first account")
        // routerd prices the yen now: the waiting result takes its rate, in both lists.
        again.takeRates(of: [Self.btc, Self.yen], currency: "USD")
        let priced = TradeResult(15_000, symbol: "USDJPY", rate: ExactDecimal("0.0067")!, currency: "USD")
        #expect(again.state.recentResults?.overall.last == priced)
        #expect(again.state.recentResults?.byStrategy["micro_trend"]?.last == priced)
        #expect(again.grades.overall.grade == .f && again.grades.overall.trades == 6, "graded whole once valued: \(again.grades.overall)")
    }

    @Test("after a restart, a trade closed before routerd's first account is weighed at the saved rates, then takes the account's")
    func savedRatesWeighMeanwhile() throws {
        var engine = engine(rates: [Self.btc, Self.yen])
        record(&engine, [-50, -50, -50, -50])
        var again = try restarted(engine)
        record(&again, [15_000], symbol: "USDJPY", from: 10)
        #expect(again.state.recentResults?.overall.last == TradeResult(15_000, symbol: "USDJPY"), "kept without the saved rate")
        // At the saved 0.0067: 100.5 dollars, F; had it waited as it is beside four results, the yen would keep B.
        #expect(again.grades.overall.grade == .f && again.grades.overall.trades == 5, "\(again.grades.overall)")
        let unweighed = GradeReport.of(again.state.recentResults?.overall ?? [], grading: again.rules.gradingRules, drawdownScale: 1_000,
                                       value: { result in result.rate.flatMap { try? result.pnl.times($0) } })
        #expect(unweighed.grade == .b, "\(unweighed)")
        again.takeRates(of: [Self.btc, Self.yen(ExactDecimal("0.0070")!)], currency: "USD")
        #expect(again.state.recentResults?.overall.last?.rate == ExactDecimal("0.0070")!, "the first account's own rate")
        #expect(again.grades.overall.grade == .f)
    }

    @Test("a waiting loss can make the tighter grade: dollar wins do not hide a yen loss that has no rate")
    func waitingLossTightens() {
        var engine = engine(rates: [Self.btc, Self.yenUnrated])
        record(&engine, [100, 100, 100, 100, 100])
        #expect(engine.grades.overall.grade == .a)
        record(&engine, [-15_000], symbol: "USDJPY", from: 10)
        #expect(engine.grades.overall.grade == .f, "as they are, the tighter: \(engine.grades.overall)")
        #expect(engine.grades.overall.trades == 6)
    }

    @Test("a window saved before symbols were kept: graded as before, and its old figures cannot keep a strategy losing in dollars at a better grade")
    func legacyWindow() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(MindsetState())) as! [String: Any]
        // As an earlier build saved them: bare decimals, a yen win among dollar losses.
        let legacy = ["15000", "-50", "-50", "-50", "-50"]
        object["recentResults"] = ["overall": legacy, "byStrategy": ["micro_trend": legacy]]
        let old = try JSONDecoder().decode(MindsetState.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.recentResults?.overall.first == TradeResult(15_000, symbol: nil))
        var engine = engine(state: old)
        #expect(engine.grades.overall.grade == .b, "no account currency known yet: as they are")
        engine.noteQuoteAssets(of: [Self.btc, Self.yen])
        engine.takeRates(of: [Self.btc, Self.yen], currency: "USD")
        #expect(engine.state.recentResults?.overall.first == TradeResult(15_000, symbol: nil), "no symbol: no rate to take")
        #expect(engine.grades.overall.grade == .b, "nothing valued yet: as they are")
        record(&engine, [-50, -50], from: 100)
        // The seven as they are: 67.5 (B); the two dollar losses alone are no record (ungraded): B stays, graded.
        #expect(engine.grades.overall.grade == .b && engine.grades.strategies["micro_trend"]?.grade == .b, "\(engine.grades.overall)")
        record(&engine, [-50, -50, -50], from: 200)
        // The ten as they are: 63.75 (C); the five dollar losses alone: F.
        #expect(grade(asTheyAre: [15_000, -50, -50, -50, -50, -50, -50, -50, -50, -50], engine).grade == .c)
        #expect(engine.grades.overall.grade == .f, "\(engine.grades.overall)")
        #expect(engine.grades.strategies["micro_trend"]?.grade == .f)
    }

    @Test("a closing order's later part weighs its whole trade at the rate of its first part when routerd no longer prices the asset")
    func amendedAtTheFirstPartsRate() {
        var engine = engine(rates: [Self.yen])
        let first = ClosedTrade(strategyId: "micro_trend", symbol: "USDJPY", side: .buy, quantity: 10_000, entryPrice: 150,
                                exitPrice: ExactDecimal("149.85")!, pnl: -1_500, closedAt: now.addingTimeInterval(1), requestId: nil, tradeId: "f1")
        engine.record(first, order: "bb-exit")
        engine.takeRates(of: [Self.yenUnrated], currency: "USD")
        var part = first
        (part.pnl, part.tradeId, part.closedAt) = (-1_500, "f2", now.addingTimeInterval(2))
        #expect(engine.amend(order: "bb-exit", with: part, partIds: []) != nil)
        #expect(engine.state.recentResults?.overall == [TradeResult(-3_000, symbol: "USDJPY", rate: ExactDecimal("0.0067")!, currency: "USD")],
                "3,000 yen at 0.0067: 20.10 dollars, not 3,000 as they are")
        #expect(engine.grades.overall.maxDrawdown == ExactDecimal("20.1")!)
    }

    @Test("routerd's account in another currency than the day's (rates refused until the reset): results weigh at the day's rates, also after a restart")
    func currencySwitchMidDay() throws {
        var engine = engine()
        _ = engine.markToMarket(equity: 100_000, currency: "USD", marks: [Self.btc, Self.yen], wallClock: now)
        let euroMarks = [AccountSummary.SymbolMark(symbol: "BTCUSDT", price: 100, baseAsset: "BTC", quoteAsset: "USDT", quoteRate: ExactDecimal("0.92")!),
                         Self.yen(ExactDecimal("0.0062")!)]
        var again = try restarted(engine)
        for day in [0, 1] {
            var current = day == 0 ? engine : again
            current.noteQuoteAssets(of: euroMarks)
            current.takeRates(of: euroMarks, currency: "EUR")
            record(&current, [-50, -50, -50, -50], from: 10)
            record(&current, [15_000], symbol: "USDJPY", from: 20)
            #expect(current.grades.overall.grade == .f, "\(day == 0 ? "running" : "restarted"): \(current.grades.overall)")
            #expect(current.grades.overall.trades == 5)
            if day == 1 { again = current }
        }
    }

    @Test("a backtest (an account currency, no rates) grades its results as they are, whatever the ungraded factor")
    func backtestAsTheyAre() {
        var engine = MindsetEngine(rules: makeRules {
            $0.dailyLossLimit = 1_000; $0.dailyLossLimitPercent = 50; $0.maxConsecutiveLosses = 20; $0.gradeFactors.ungraded = 0.5
        })
        _ = engine.advance(to: now)
        engine.quoteAssets = ["BTCUSDT": "USDT", "USDJPY": "JPY"]
        // As BacktestMindset does: the account's equity and currency, no marks.
        _ = engine.markToMarket(equity: 100_000, currency: "USD", wallClock: now)
        record(&engine, [100, 100, 100, 100, 100])
        #expect(engine.grades.overall.grade == .a && engine.grades.overall.sizeFactor == 1, "\(engine.grades.overall)")
        record(&engine, [-50, -50, -50, -50, 15_000], symbol: "USDJPY", from: 10)
        #expect(engine.grades.overall.trades == 10, "no rates to weigh at, nothing else to grade by")
    }

    @Test("a rate at or below zero in the state file weighs nothing: a loss is not turned into a win")
    func savedRatesOutOfRange() throws {
        var engine = engine(rates: [Self.btc, Self.yen])
        record(&engine, [-50, -50, -50, -50, -50])
        var state = engine.state
        let negative = (state.recentResults?.overall ?? []).map { var result = $0; result.rate = -1; return result }
        state.recentResults?.overall = negative
        state.quoteRates = ["USDT": -1, "JPY": 0]
        let again = MindsetEngine(rules: engine.rules, state: state)
        #expect(again.grades.overall.grade == .f, "as they are, not at -1: \(again.grades.overall)")
        #expect(again.judged(waiting: -1_500, symbol: "USDJPY", in: ClosedInAccount()) == -1_500, "the loss limits take no rate of 0 either")
    }
}
