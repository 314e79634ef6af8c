import Foundation
import BagbotDomain

/// How the recent trades are graded and what each grade lets through (`mindset.grade_*`; the formula is in
/// docs/mindset.md, "Grades"). Locked with the day's limits: a trader cannot loosen them mid-day.
public struct Grading: Codable, Sendable, Equatable {
    /// Trades graded: the last this many closed trades, overall and per strategy.
    public var window: Int
    /// Fewer closed trades than this are not graded (the `ungraded` factor applies).
    public var minTrades: Int
    public var thresholds: MindsetSettings.GradeThresholds
    public var factors: MindsetSettings.GradeFactors

    public init(_ config: MindsetSettings) {
        window = config.gradeWindow
        minTrades = config.minGradedTrades
        thresholds = config.gradeThresholds
        factors = config.gradeFactors
    }

    /// The tighter of the two: higher score thresholds, lower factors. Window and minimum count are not
    /// tighter one way or the other: a change waits for the next reset (the day's stand).
    func tightened(by day: Grading) -> Grading {
        // A day's window and count out of the range the configuration allows (only a state file can say so) are not
        // taken: a window of nothing would forget every result and let each strategy trade at `ungraded`.
        var tighter = day
        if !(1...MindsetSettings.maxGradeWindow).contains(day.window) || !(1...max(1, day.window)).contains(day.minTrades) {
            (tighter.window, tighter.minTrades) = (window, minTrades)
        }
        tighter.thresholds = MindsetSettings.GradeThresholds(
            a: max(thresholds.a, day.thresholds.a), b: max(thresholds.b, day.thresholds.b),
            c: max(thresholds.c, day.thresholds.c), d: max(thresholds.d, day.thresholds.d))
        tighter.factors = MindsetSettings.GradeFactors(
            a: min(factors.a, day.factors.a), b: min(factors.b, day.factors.b), c: min(factors.c, day.factors.c),
            d: min(factors.d, day.factors.d), f: min(factors.f, day.factors.f), ungraded: min(factors.ungraded, day.factors.ungraded))
        return tighter
    }

    func grade(forScore score: Double) -> Grade {
        if score >= thresholds.a { return .a }
        if score >= thresholds.b { return .b }
        if score >= thresholds.c { return .c }
        if score >= thresholds.d { return .d }
        return .f
    }

    func factor(for grade: Grade?) -> Double {
        switch grade {
        case .a: return factors.a
        case .b: return factors.b
        case .c: return factors.c
        case .d: return factors.d
        case .f: return factors.f
        case nil: return factors.ungraded
        }
    }
}

extension GradeReport {
    /// Grades `results` (oldest first). `drawdownScale` is what a drawdown is measured against: the day's
    /// absolute loss limit (a drawdown as deep as a day's limit scores nothing).
    public static func of(_ all: [ExactDecimal], grading: Grading, drawdownScale: ExactDecimal) -> GradeReport {
        // The window in force (a smaller one set at a reset applies before the next trade trims the list).
        let results = all.suffix(max(0, grading.window))
        var grossWin = 0.0, grossLoss = 0.0, wins = 0
        var running = ExactDecimal.zero, high = ExactDecimal.zero, drawdown = ExactDecimal.zero
        var sum = ExactDecimal.zero, exactSums = true
        for pnl in results {
            let value = pnl.doubleValue
            if pnl.isPositive { wins += 1; grossWin += value } else if pnl.isNegative { grossLoss -= value }
            if exactSums, let next = try? running + pnl, let total = try? sum + pnl {
                running = next
                sum = total
                high = max(high, running)
                if let fall = try? high - running { drawdown = max(drawdown, fall) }
            } else {
                exactSums = false
            }
        }
        let count = results.count
        let expectancy = ExactDecimal(count).flatMap { count > 0 && exactSums ? try? sum.divided(by: $0, scale: 8, rounding: .towardZero).normalized : nil }
        let profitFactor = grossLoss > 0 ? grossWin / grossLoss : nil
        guard exactSums else {
            // Results no decimal can sum are no record to trade full size on: graded F (fail closed).
            return GradeReport(grade: .f, score: 0, trades: count, winRate: count > 0 ? Double(wins) / Double(count) : nil,
                               profitFactor: profitFactor, expectancy: nil, maxDrawdown: drawdown, sizeFactor: grading.factor(for: .f), confidence: 0)
        }
        guard count >= max(1, grading.minTrades) else {
            let factor = grading.factor(for: nil)
            return GradeReport(grade: nil, score: nil, trades: count, winRate: count > 0 ? Double(wins) / Double(count) : nil,
                               profitFactor: profitFactor, expectancy: expectancy, maxDrawdown: drawdown, sizeFactor: factor, confidence: 0.5)
        }
        let winRate = Double(wins) / Double(count)
        // Each part scores 0–25 between a floor (nothing) and a mark (full); docs/mindset.md has the table.
        let winPart = part(winRate, from: 0.30, to: 0.60)
        let factorPart = grossLoss > 0 ? part(grossWin / grossLoss, from: 0.8, to: 1.8) : (grossWin > 0 ? 25 : part(1, from: 0.8, to: 1.8))
        let meanSize = (grossWin + grossLoss) / Double(count)
        let edge = meanSize > 0 ? sum.doubleValue / Double(count) / meanSize : 0
        let expectancyPart = part(edge, from: -0.1, to: 0.3)
        let depth = drawdownScale.isPositive ? drawdown.doubleValue / drawdownScale.doubleValue : (drawdown.isPositive ? 1 : 0)
        let drawdownPart = part(1 - depth, from: 0, to: 1)
        let score = ((winPart + factorPart + expectancyPart + drawdownPart) * 100).rounded() / 100
        let grade = grading.grade(forScore: score)
        return GradeReport(grade: grade, score: score, trades: count, winRate: winRate, profitFactor: profitFactor,
                           expectancy: expectancy, maxDrawdown: drawdown, sizeFactor: grading.factor(for: grade), confidence: score / 100)
    }

    /// Grades `results` (oldest first) in the account currency: `value` gives each there, nil when it cannot (its quote
    /// asset's rate not known yet, or a result saved before its symbol was kept). A window with such results gets the
    /// tighter of two grades: all of them, those not valued as they are, and the valued ones alone. Neither alone is
    /// safe: as they are, a 15,000-yen win hides dollar losses; without the others, the record would shrink to what is
    /// valued (or restart at `ungraded`). Tighter: the lower size factor; at the same factor a grade before none (an
    /// ungraded record would drop the strategy from arsenald's ranking), then the lower confidence.
    static func of(_ results: [TradeResult], grading: Grading, drawdownScale: ExactDecimal,
                   value: (TradeResult) -> ExactDecimal?) -> GradeReport {
        let window = results.suffix(max(0, grading.window))
        let valued = window.map(value)
        let whole = of(zip(window, valued).map { $1 ?? $0.pnl }, grading: grading, drawdownScale: drawdownScale)
        guard valued.contains(nil) else { return whole }
        let known = of(valued.compactMap { $0 }, grading: grading, drawdownScale: drawdownScale)
        func rank(_ report: GradeReport) -> (Double, Int, Double) { (report.sizeFactor, report.grade == nil ? 1 : 0, report.confidence) }
        return rank(known) < rank(whole) ? known : whole
    }

    /// 0 at or below `floor`, 25 at or above `mark`, straight in between.
    private static func part(_ value: Double, from floor: Double, to mark: Double) -> Double {
        guard value.isFinite else { return value > 0 ? 25 : 0 }
        return 25 * min(1, max(0, (value - floor) / (mark - floor)))
    }
}

extension GradeBook {
    /// `value`: a result in the account currency (`GradeReport.of(_:grading:drawdownScale:value:)`).
    static func of(_ results: RecentResults, grading: Grading, drawdownScale: ExactDecimal,
                   value: (TradeResult) -> ExactDecimal?) -> GradeBook {
        GradeBook(overall: .of(results.overall, grading: grading, drawdownScale: drawdownScale, value: value),
                  strategies: results.byStrategy.mapValues { .of($0, grading: grading, drawdownScale: drawdownScale, value: value) })
    }

    /// The factor an entry of `strategy` gets: the lower of the overall grade's and the strategy's own (a
    /// strategy without a record is ungraded); with the report it comes from (nil: the strategy has none).
    func sizeFactor(for strategy: String, grading: Grading) -> (factor: Double, report: GradeReport?, whose: String) {
        let own = strategies[strategy]
        let ownFactor = own?.sizeFactor ?? grading.factor(for: nil)
        return ownFactor < overall.sizeFactor ? (ownFactor, own, "strategy \(strategy)") : (overall.sizeFactor, overall, "overall")
    }
}
