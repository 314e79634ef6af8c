import Foundation
import BagbotDomain
import BagbotStorage

/// The mindset's files in `state/`: `mindset_state.json` (current state) and `daily_metrics.json`
/// (one entry per finished day), both written atomically.
public struct MindsetStore: Sendable {
    public let statePath: String
    public let metricsPath: String
    public let lockoutPath: String
    public let confidencePath: String

    public init(stateDirectory: String) {
        statePath = stateDirectory + "/mindset_state.json"
        metricsPath = stateDirectory + "/daily_metrics.json"
        lockoutPath = stateDirectory + "/self_lockout.json"
        confidencePath = stateDirectory + "/" + GradeBook.fileName
    }

    /// Whether the daemon has started here before (`daily_metrics.json` exists, empty from the first start on):
    /// a missing state file is then a lost one, not a first start.
    public var hasRunBefore: Bool { FileManager.default.fileExists(atPath: metricsPath) }

    /// Marks the first start: an empty `daily_metrics.json`.
    public func markFirstStart() throws {
        guard !hasRunBefore else { return }
        try AtomicFile.writeJSON([DailySummary](), to: metricsPath)
    }

    /// A self-lockout, kept in a file of its own beside the state: it survives a lost or corrupt state file.
    public struct Lockout: Codable, Sendable, Equatable {
        public var until: Date
        public var reason: String
    }

    public func loadLockout() throws -> Lockout? {
        try AtomicFile.readJSON(Lockout.self, from: lockoutPath)
    }

    public func saveLockout(_ lockout: Lockout) throws {
        try AtomicFile.writeJSON(lockout, to: lockoutPath)
    }

    /// The grades, for arsenald's ranking and for people: derived from the state, so never read back here.
    public func saveGrades(_ grades: GradeBook) throws {
        try AtomicFile.writeJSON(grades, to: confidencePath)
    }

    public func loadState() throws -> MindsetState? {
        try AtomicFile.readJSON(MindsetState.self, from: statePath)
    }

    public func save(_ state: MindsetState) throws {
        try AtomicFile.writeJSON(state, to: statePath)
    }

    /// Appends finished days. A corrupt history is moved aside (and returned, for the caller to report)
    /// and a new file started with these days: history is not safety-critical, losing a day would be.
    @discardableResult
    public func append(_ summaries: [DailySummary]) throws -> CorruptStateFile? {
        var days: [DailySummary]
        var corruption: CorruptStateFile?
        do {
            days = try AtomicFile.readJSON([DailySummary].self, from: metricsPath) ?? []
        } catch let corrupt as CorruptStateFile {
            days = []
            corruption = corrupt
        }
        days.append(contentsOf: summaries)
        try AtomicFile.writeJSON(days, to: metricsPath)
        return corruption
    }

    @discardableResult
    public func append(_ summary: DailySummary) throws -> CorruptStateFile? {
        try append([summary])
    }
}
