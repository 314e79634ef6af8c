import Foundation
import BagbotDomain
import BagbotRuntime
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import MindsetCore

/// Grades A–F over the recent trades (docs/mindset.md, "Grades"), the sizes they let through, and the
/// `strategy_confidence.json` arsenald ranks by.
@Suite("MindsetEngine: grades and risk scaling")
struct MindsetGradeTests {
    let grading = Grading(MindsetSettings())

    /// Rules where streaks and the loss limit never move the state: only the grade scales a size.
    func gradeOnlyRules(_ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetRules {
        makeRules {
            $0.revengeCooldownSeconds = 0
            $0.revengeWindowSeconds = 0
            $0.maxConsecutiveLosses = 1_000
            $0.cautiousAfterLosses = 1_000
            $0.tiltedAfterLosses = 1_000
            $0.confidentAfterWins = 1_000
            $0.cautiousLossFraction = 1
            $0.tiltedLossFraction = 1
            $0.dailyLossLimit = 1_000_000
            $0.dailyLossLimitPercent = 100
            $0.startOfDayEquity = 10_000_000
            $0.giveBackLimit = 1_000_000
            change(&$0)
        }
    }

    func trade(_ pnl: ExactDecimal, strategy: String, at time: Date, id: String) -> ClosedTrade {
        ClosedTrade(strategyId: strategy, symbol: "BTCUSDT", side: .buy, quantity: 1, entryPrice: 100,
                    exitPrice: try! 100 + pnl, pnl: pnl, closedAt: time, requestId: nil, tradeId: id)
    }

    func entry(for strategy: String, at time: Date, quantity: ExactDecimal = 4) -> TradeProposal {
        var proposal = proposal(at: time, quantity: quantity)
        proposal.strategyId = strategy
        return proposal
    }

    @Test("a strong record: every part of the score is computed as documented (A)")
    func strongRecord() throws {
        let results: [ExactDecimal] = [100, 100, 100, 100, 100, 100, -50, -50, -50, -50]
        let report = GradeReport.of(results, grading: grading, drawdownScale: 1_000)
        // Win rate 0.6 → 25; profit factor 3 → 25; edge 40/80 = 0.5 → 25; drawdown 200 of 1,000 → 20.
        #expect(report.score == 95)
        #expect(report.grade == .a)
        #expect(report.winRate == 0.6)
        #expect(report.profitFactor == 3)
        #expect(report.expectancy == 40)
        #expect(report.maxDrawdown == 200)
        #expect(report.sizeFactor == 1)
        #expect(report.confidence == 0.95)
    }

    @Test("a losing record grades F; the parts between their floor and mark are straight lines")
    func losingRecord() throws {
        let losing: [ExactDecimal] = [-50, -50, -50, -50, -50, -50, -50, -50, 50, 50]
        let report = GradeReport.of(losing, grading: grading, drawdownScale: 1_000)
        // Win rate 0.2 → 0; profit factor 0.25 → 0; edge −30/50 → 0; drawdown 400 of 1,000 → 15.
        #expect(report.score == 15)
        #expect(report.grade == .f)
        #expect(report.sizeFactor == 0.25)
        // A coin flip of equal sizes: 0.5 → 16.67, PF 1 → 5, edge 0 → 6.25, drawdown 10 of 1,000 → 24.75.
        let flip = GradeReport.of([10, -10, 10, -10, 10, -10], grading: grading, drawdownScale: 1_000)
        #expect(flip.score == 52.67)
        #expect(flip.grade == .c)
    }

    @Test("thresholds: a score exactly at a grade's threshold earns it, just below does not")
    func thresholds() {
        #expect(grading.grade(forScore: 80) == .a)
        #expect(grading.grade(forScore: 79.99) == .b)
        #expect(grading.grade(forScore: 65) == .b)
        #expect(grading.grade(forScore: 50) == .c)
        #expect(grading.grade(forScore: 35) == .d)
        #expect(grading.grade(forScore: 34.99) == .f)
    }

    @Test("fewer trades than min_graded_trades are not graded: the ungraded factor, confidence 0.5")
    func ungraded() {
        let report = GradeReport.of([-10, -10, -10, -10], grading: grading, drawdownScale: 1_000)
        #expect(report.grade == nil)
        #expect(report.score == nil)
        #expect(report.trades == 4)
        #expect(report.sizeFactor == grading.factors.ungraded)
        #expect(report.confidence == 0.5)
        #expect(GradeReport.of([], grading: grading, drawdownScale: 1_000).grade == nil)
        // Only winners: the profit factor is infinite (nil) and scores full.
        let winners = GradeReport.of([5, 5, 5, 5, 5], grading: grading, drawdownScale: 1_000)
        #expect(winners.profitFactor == nil)
        #expect(winners.score == 100)
    }

    @Test("a saved day's grade window out of range is not taken: the configured one applies and the record is kept")
    func savedWindowOutOfRange() {
        var state = MindsetState()
        state.dayStart = utc("2024-03-01T00:00:00Z")
        var results = RecentResults()
        for _ in 0..<6 { results.add(TradeResult(-5, symbol: "BTCUSDT"), strategy: "micro_trend", keeping: 20) }
        state.recentResults = results
        for (window, minTrades) in [(-3, 5), (0, 5), (5_000, 5), (20, 0), (20, 21)] {
            var limits = DayLimits(MindsetSettings())
            limits.grading?.window = window
            limits.grading?.minTrades = minTrades
            state.dayLimits = limits
            var engine = MindsetEngine(rules: gradeOnlyRules(), state: state)
            #expect(engine.rules.gradingRules.window == 20 && engine.rules.gradingRules.minTrades == 5, "\(window), \(minTrades)")
            engine.record(trade(-5, strategy: "micro_trend", at: utc("2024-03-01T10:00:00Z"), id: "t\(window)"))
            #expect(engine.state.recentResults?.overall.count == 7, "the record kept")
            #expect(engine.grades.overall.grade == .f, "six losses and one more: F, not ungraded at full size")
        }
    }

    @Test("result counts at their end (a state file that says so): a later part finds no result rather than another trade's")
    func resultCountsAtTheirEnd() {
        var results = RecentResults()
        results.added = Int.max - 1
        results.addedByStrategy = ["s": Int.max - 1]
        let first = results.add(TradeResult(-5, symbol: "BTCUSDT"), strategy: "s", keeping: 20)
        #expect(first == (Int.max, Int.max))
        let second = results.add(TradeResult(-7, symbol: "BTCUSDT"), strategy: "s", keeping: 20)
        #expect(second == (1, 1), "counted again from the start")
        results.update(first, strategy: "s") { $0.pnl = 100 }
        #expect(results.overall.map(\.pnl) == [-5, -7] && results.byStrategy["s"]?.map(\.pnl) == [-5, -7], "the second trade untouched")
        results.update(second, strategy: "s") { $0.pnl = -8 }
        #expect(results.overall.map(\.pnl) == [-5, -8] && results.byStrategy["s"]?.map(\.pnl) == [-5, -8])
        results.update((Int.min, Int.min), strategy: "s") { $0.pnl = 100 }
        #expect(results.overall.map(\.pnl) == [-5, -8], "a number no count can reach finds nothing")
    }

    @Test("only the last grade_window trades are graded, per strategy and overall")
    func window() {
        var results = RecentResults()
        for index in 0..<30 { results.add(TradeResult(ExactDecimal(mantissa: Int128(index), scale: 0), symbol: "BTCUSDT"), strategy: index.isMultiple(of: 2) ? "even" : "odd", keeping: 20) }
        #expect(results.overall.count == 20)
        #expect(results.overall.first?.pnl == 10)
        #expect(results.byStrategy["even"]?.count == 15)
        var short = RecentResults()
        for index in 0..<5 { short.add(TradeResult(ExactDecimal(mantissa: Int128(index), scale: 0), symbol: "BTCUSDT"), strategy: "s", keeping: 3) }
        #expect(short.byStrategy["s"]?.map(\.pnl) == [2, 3, 4])
    }

    @Test("risk scaling: approved = requested × grade factor × state factor, with a reason and code each")
    func gradeScalesEntries() throws {
        var engine = MindsetEngine(rules: gradeOnlyRules { $0.stateFactors.calm = 0.8; $0.stateFactors.confident = 0.8 })
        let start = utc("2024-03-01T10:00:00Z")
        for index in 0..<5 {
            engine.record(trade(-10, strategy: "loser", at: start.addingTimeInterval(Double(index)), id: "l\(index)"))
        }
        #expect(engine.state.emotion == .calm)
        #expect(engine.grades.strategies["loser"]?.grade == .f)
        let decision = engine.evaluate(entry(for: "loser", at: start.addingTimeInterval(10)))
        #expect(decision.approved)
        // 4 × 0.25 (F) × 0.8 (CALM).
        #expect(decision.approvedQuantity == ExactDecimal("0.8"))
        #expect(decision.codes == ["state_size", "grade_size"])
        #expect(decision.reasons.count == decision.codes.count)
        #expect(decision.reasons[1].hasPrefix("grade F"), "\(decision.reasons)")
    }

    @Test("the lower of the strategy's and the overall grade applies; an ungraded strategy takes the overall")
    func lowerGradeApplies() throws {
        var engine = MindsetEngine(rules: gradeOnlyRules())
        let start = utc("2024-03-01T10:00:00Z")
        var time = 0.0
        for index in 0..<5 {
            engine.record(trade(100, strategy: "winner", at: start.addingTimeInterval(time), id: "w\(index)"))
            time += 1
        }
        for index in 0..<15 {
            engine.record(trade(-20, strategy: "loser", at: start.addingTimeInterval(time), id: "l\(index)"))
            time += 1
        }
        #expect(engine.grades.strategies["winner"]?.grade == .a)
        let overall = try #require(engine.grades.overall.grade)
        #expect(overall != .a)
        let winner = engine.evaluate(entry(for: "winner", at: start.addingTimeInterval(time + 1)))
        let expected = try ExactDecimal(4).times(ExactDecimal(rounding: grading.factor(for: overall), scale: 6, rounding: .down)!).normalized
        #expect(winner.approvedQuantity == expected, "\(winner.reasons)")
        #expect(winner.reasons[1].contains("overall"))
        let newcomer = engine.evaluate(entry(for: "newcomer", at: start.addingTimeInterval(time + 2)))
        #expect(newcomer.approvedQuantity == expected)
    }

    @Test("an exit is never scaled by a grade")
    func exitsNotScaled() {
        var engine = MindsetEngine(rules: gradeOnlyRules())
        let start = utc("2024-03-01T10:00:00Z")
        for index in 0..<5 { engine.record(trade(-10, strategy: "micro_trend", at: start.addingTimeInterval(Double(index)), id: "\(index)")) }
        let exit = engine.evaluate(proposal(at: start.addingTimeInterval(10), quantity: 3, isEntry: false))
        #expect(exit.approvedQuantity == 3)
        #expect(exit.codes == ["exit"])
    }

    @Test("a grade factor of zero blocks the entry with its reasons, never approves nothing")
    func zeroGradeFactorBlocks() {
        var engine = MindsetEngine(rules: gradeOnlyRules { $0.gradeFactors.f = 0 })
        let start = utc("2024-03-01T10:00:00Z")
        for index in 0..<5 { engine.record(trade(-10, strategy: "micro_trend", at: start.addingTimeInterval(Double(index)), id: "\(index)")) }
        let decision = engine.evaluate(proposal(at: start.addingTimeInterval(10)))
        #expect(!decision.approved)
        #expect(decision.approvedQuantity == 0)
        #expect(decision.codes.first == "size_zero", "counted as a block of its own, not under the state's factor")
        #expect(decision.codes.contains("grade_size"))
    }

    // Findings of the review of the grades (each failed before its fix).

    @Test("drawdowns are graded against the loss limit that applies: the percentage of a small account's equity")
    func drawdownAgainstEffectiveLimit() throws {
        var engine = MindsetEngine(rules: gradeOnlyRules {
            $0.dailyLossLimit = 1_000
            $0.dailyLossLimitPercent = 2
            $0.giveBackLimit = 1_000_000
        })
        let start = utc("2024-03-01T10:00:00Z")
        _ = engine.advance(to: start)
        _ = engine.markToMarket(equity: 10_000, currency: "USD", wallClock: start)
        #expect(engine.dailyLossLimit == 200)
        var time = 1.0
        for pnl: ExactDecimal in [40, 40, 40, 40, 40, -40, -40, -40, -40, -40] {
            engine.record(trade(pnl, strategy: "s", at: start.addingTimeInterval(time), id: "t\(time)"))
            time += 1
        }
        // A drawdown of 200: the whole of the day's real limit (F), not a fifth of the absolute one (D).
        #expect(engine.grades.overall.maxDrawdown == 200)
        #expect(engine.grades.overall.grade == .f, "\(engine.grades.overall)")
    }

    @Test("results whose sums leave the decimal range grade F, never ungraded at full size")
    func overflowGradesF() {
        let huge = ExactDecimal("-600000000000000000")!
        let report = GradeReport.of([-100, -100, -100, huge, huge], grading: grading, drawdownScale: 1_000)
        #expect(report.grade == .f)
        #expect(report.sizeFactor == grading.factors.f)
    }

    @Test("a smaller grade_window from the reset grades only the last trades, before any new trade trims the lists")
    func smallerWindowAppliesAtOnce() {
        let wide = gradeOnlyRules { $0.gradeWindow = 100 }
        var engine = MindsetEngine(rules: wide)
        let start = utc("2024-03-01T10:00:00Z")
        for index in 0..<100 {
            engine.record(trade(index < 80 ? 10 : -10, strategy: "s", at: start.addingTimeInterval(Double(index)), id: "\(index)"))
        }
        #expect(engine.grades.overall.grade == .a)
        var narrow = MindsetEngine(rules: gradeOnlyRules { $0.gradeWindow = 20 }, state: engine.state)
        _ = narrow.advance(to: utc("2024-03-02T10:00:00Z"))
        #expect(narrow.grades.overall.trades == 20)
        #expect(narrow.grades.overall.grade == .f)
        #expect(narrow.grades.strategies["s"]?.grade == .f)
    }

    @Test("locked settings: looser grade factors or thresholds wait for the reset, tighter ones apply at once")
    func gradingIsLockedWithTheDay() throws {
        let start = utc("2024-03-01T10:00:00Z")
        var day = MindsetEngine(rules: gradeOnlyRules())
        for index in 0..<5 { day.record(trade(-10, strategy: "micro_trend", at: start.addingTimeInterval(Double(index)), id: "\(index)")) }
        let saved = day.state

        let looser = gradeOnlyRules {
            $0.gradeFactors = MindsetSettings.GradeFactors(a: 1, b: 1, c: 1, d: 1, f: 1, ungraded: 1)
            $0.gradeThresholds = MindsetSettings.GradeThresholds(a: 0, b: 0, c: 0, d: 0)
            $0.minGradedTrades = 20
        }
        var restarted = MindsetEngine(rules: looser, state: saved)
        #expect(restarted.rules.gradingRules == Grading(MindsetSettings()))
        #expect(restarted.grades.overall.grade == .f)
        let stillScaled = restarted.evaluate(proposal(at: start.addingTimeInterval(10), quantity: 4))
        #expect(stillScaled.approvedQuantity == 1)
        #expect(restarted.loosenedUntilReset)

        var tighter = MindsetEngine(rules: gradeOnlyRules { $0.gradeFactors.f = 0.1 }, state: saved)
        #expect(tighter.evaluate(proposal(at: start.addingTimeInterval(10), quantity: 4)).approvedQuantity == ExactDecimal("0.4"))

        // At the reset the configuration applies in full.
        let nextDay = restarted.evaluate(proposal(at: utc("2024-03-02T10:00:00Z"), quantity: 4))
        #expect(nextDay.approvedQuantity == 4, "\(nextDay.reasons)")
        #expect(restarted.grades.overall.grade == nil)
    }

    @Test("grades survive a restart and a reset: they are about the recent trades, not the day")
    func gradesPersist() throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        var engine = MindsetEngine(rules: gradeOnlyRules())
        let start = utc("2024-03-01T10:00:00Z")
        for index in 0..<5 { engine.record(trade(-10, strategy: "micro_trend", at: start.addingTimeInterval(Double(index)), id: "\(index)")) }
        try store.save(engine.state)
        let loaded = try #require(try store.loadState())
        var restarted = MindsetEngine(rules: gradeOnlyRules(), state: loaded)
        #expect(restarted.grades == engine.grades)
        _ = restarted.advance(to: utc("2024-03-02T10:00:00Z"))
        #expect(restarted.grades.overall.grade == .f)
    }

    @Test("a state saved before grades existed loads: no results, the configuration's grading")
    func oldStateLoads() throws {
        var engine = MindsetEngine(rules: gradeOnlyRules())
        _ = engine.advance(to: utc("2024-03-01T10:00:00Z"))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(engine.state)) as? [String: Any])
        var limits = try #require(object["dayLimits"] as? [String: Any])
        limits["grading"] = nil
        limits["onLocked"] = nil
        object["dayLimits"] = limits
        object["recentResults"] = nil
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let old = try decoder.decode(MindsetState.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.dayLimits?.grading == nil)
        let resumed = MindsetEngine(rules: gradeOnlyRules(), state: old)
        #expect(resumed.rules.gradingRules == Grading(MindsetSettings()))
        #expect(resumed.rules.onLockedAction == .block)
    }

    @Test("mindsetd writes strategy_confidence.json when the grades change, and mindset.state shows them")
    func confidenceFile() async throws {
        let dir = try TempDir()
        let store = MindsetStore(stateDirectory: dir.path)
        let mindset = MindsetService(rules: gradeOnlyRules(), store: store, logger: quietLogger)
        let start = utc("2024-03-01T10:00:00Z")
        let empty = try #require(try AtomicFile.readJSON(GradeBook.self, from: store.confidencePath))
        #expect(empty.strategies.isEmpty)
        for index in 0..<5 { _ = try await mindset.record(trade(-10, strategy: "micro_trend", at: start.addingTimeInterval(Double(index)), id: "\(index)")) }
        let written = try #require(try AtomicFile.readJSON(GradeBook.self, from: store.confidencePath))
        #expect(written.strategies["micro_trend"]?.grade == .f)
        #expect(written == (await mindset.snapshot().grades))
        #expect(await mindset.snapshot().onLocked == .block)
    }

    static func refused(_ key: String) -> MindsetSettings {
        var config = MindsetSettings()
        switch key {
        case "grade_factors.a": config.gradeFactors.a = 1.5
        case "grade_factors": config.gradeFactors.f = 0.9
        case "grade_thresholds": config.gradeThresholds.d = 90
        case "min_graded_trades": config.minGradedTrades = 50
        case "grade_window": config.gradeWindow = 0
        default: config.stateFactors.confident = 1.5
        }
        return config
    }

    @Test("the configuration refuses grade settings that would scale up or invert the grades", arguments: [
        "grade_factors.a", "grade_factors", "grade_thresholds", "min_graded_trades", "grade_window", "state_factors.confident",
    ])
    func configurationRefuses(key: String) {
        let check = ConfigCheck(file: "bagbot.yaml", section: "mindset")
        do {
            try Self.refused(key).validate(check)
            Issue.record("\(key) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
        #expect(throws: Never.self) { try MindsetSettings().validate(check) }
    }
}
