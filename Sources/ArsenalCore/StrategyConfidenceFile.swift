import Foundation
import BagbotDomain
import BagbotStorage

/// mindsetd's grades of the strategies (`strategy_confidence.json` beside its state): arsenald ranks
/// competing signals for a symbol by each strategy's confidence from it (docs/mindset.md, "Grades"). The file
/// is read again only when it changes; unreadable, it leaves the ranking as it was (a ranking, not a limit:
/// the sizes come from mindsetd's own decision).
public struct StrategyConfidenceFile: Sendable {
    public let path: String
    private var lastModified: Date?

    public init(stateDirectory: String) {
        path = stateDirectory + "/" + GradeBook.fileName
    }

    /// Each graded strategy's confidence (0–1), when the file changed since the last call; nil when it did not,
    /// is absent, or cannot be read.
    public mutating func readIfChanged() throws -> [String: Double]? {
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
              modified != lastModified else { return nil }
        guard let grades = try AtomicFile.readJSON(GradeBook.self, from: path, setAside: false) else { return nil }
        lastModified = modified
        // An ungraded strategy (too few trades) ranks by its own running win rate, as one not in the file does.
        return grades.strategies.compactMapValues { report in
            report.grade != nil && report.confidence.isFinite ? min(1, max(0, report.confidence)) : nil
        }
    }
}
