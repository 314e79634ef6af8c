import Foundation

public enum Grade: String, Codable, Sendable, CaseIterable {
    case a = "A", b = "B", c = "C", d = "D", f = "F"
}

/// One grade of the recent closed trades and the figures behind it (mindsetd computes it; docs/mindset.md,
/// "Grades").
public struct GradeReport: Codable, Sendable, Equatable {
    /// Nil: fewer trades than the minimum graded.
    public var grade: Grade?
    /// 0–100, the sum of four parts of 25 (nil when not graded).
    public var score: Double?
    public var trades: Int
    public var winRate: Double?
    /// Gross wins over gross losses; nil when nothing was lost (infinite) or no trade moved money.
    public var profitFactor: Double?
    /// The mean net P&L per trade, in account currency.
    public var expectancy: ExactDecimal?
    /// The deepest fall of the trades' running P&L from its high, in account currency.
    public var maxDrawdown: ExactDecimal
    /// The size factor this grade applies to entries.
    public var sizeFactor: Double
    /// For ranking signals (arsenald): score / 100, or 0.5 while not graded.
    public var confidence: Double

    public init(grade: Grade?, score: Double?, trades: Int, winRate: Double?, profitFactor: Double?, expectancy: ExactDecimal?,
                maxDrawdown: ExactDecimal, sizeFactor: Double, confidence: Double) {
        self.grade = grade
        self.score = score
        self.trades = trades
        self.winRate = winRate
        self.profitFactor = profitFactor
        self.expectancy = expectancy
        self.maxDrawdown = maxDrawdown
        self.sizeFactor = sizeFactor
        self.confidence = confidence
    }
}

/// The grades in force: overall and per strategy. mindsetd writes them to `strategy_confidence.json`
/// whenever they change; arsenald ranks competing signals by each strategy's `confidence`.
public struct GradeBook: Codable, Sendable, Equatable {
    public var overall: GradeReport
    public var strategies: [String: GradeReport]

    public init(overall: GradeReport, strategies: [String: GradeReport]) {
        self.overall = overall
        self.strategies = strategies
    }

    public static let fileName = "strategy_confidence.json"
}
