import Foundation
import Logging
import BagbotDomain
import BagbotStorage

/// The operator's pause/resume switch, kept in `trading_state.json` so a restart keeps a pause.
public struct TradingSwitch: Sendable {
    public private(set) var state: TradingSwitchState
    private let path: String

    /// A corrupt file means paused: trading must not resume because a file could not be read.
    public init(stateDirectory: String, logger: Logger) {
        path = stateDirectory + "/trading_state.json"
        do {
            var loaded = try AtomicFile.readJSON(TradingSwitchState.self, from: path)
                ?? TradingSwitchState(enabled: true, reason: nil, changedAt: Date())
            // A reason written before reasons were bounded is cut, so it is never echoed in full.
            loaded.reason = RequestRules.sanitizedReason(loaded.reason)
            state = loaded
        } catch {
            logger.critical("trading switch unreadable; starting PAUSED", metadata: ["error": "\(error)"])
            state = TradingSwitchState(enabled: false, reason: "trading_state.json was corrupt: \(error)", changedAt: Date())
        }
    }

    public mutating func set(enabled: Bool, reason: String?) throws {
        let next = TradingSwitchState(enabled: enabled, reason: reason, changedAt: Date())
        try AtomicFile.writeJSON(next, to: path)
        state = next
    }
}
