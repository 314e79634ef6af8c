import Foundation
import Shared

/// The mindset's files in `state/`: `mindset_state.json` (current state) and `daily_metrics.json`
/// (one entry per finished day), both written atomically.
public struct MindsetStore: Sendable {
    public let statePath: String
    public let metricsPath: String

    public init(stateDirectory: String) {
        statePath = stateDirectory + "/mindset_state.json"
        metricsPath = stateDirectory + "/daily_metrics.json"
    }

    public func loadState() throws -> MindsetState? {
        try AtomicFile.readJSON(MindsetState.self, from: statePath)
    }

    public func save(_ state: MindsetState) throws {
        try AtomicFile.writeJSON(state, to: statePath)
    }

    public func append(_ summary: DailySummary) throws {
        var days: [DailySummary]
        do {
            days = try AtomicFile.readJSON([DailySummary].self, from: metricsPath) ?? []
        } catch let corrupt as CorruptStateFile {
            // History is not safety-critical: keep the moved-aside file for inspection and start a new one.
            days = []
            throw corrupt
        }
        days.append(summary)
        try AtomicFile.writeJSON(days, to: metricsPath)
    }
}
