import Foundation
import BagbotDomain
import BagbotIPC

/// `mindset.unlock`: lifts an admin lock (never one a limit set: only the daily reset lifts those).
public struct UnlockRequest: Codable, Sendable {
    public var reason: String
}

/// `mindset.selfLockout`: no new entries until `until` (wall-clock time), whatever happens meanwhile. Nobody can
/// lift it early: not an admin, not the daily reset, not a restart. It can be extended, never shortened.
public struct SelfLockoutRequest: Codable, Sendable {
    public var until: Date
    public var reason: String
}

extension MindsetEngine {
    /// Lifts an admin lock, or acknowledges a lock for unknown state (a corrupt or lost state file: it holds
    /// until an admin has looked). An acknowledgment on the day the state was found unknown leaves the day
    /// LOCKED until the reset (the day's figures were lost with the state: a fresh start of day must not
    /// become a fresh loss limit). A lock a limit set stays (`conflict`), as does no lock at all (`conflict`).
    public mutating func unlock(reason: String) throws -> StateTransition {
        guard state.emotion == .locked else { throw IPCError(.conflict, "not locked") }
        let at = state.clock ?? Date(timeIntervalSince1970: 0)
        if let since = state.acknowledgmentPendingSince {
            state.acknowledgmentPendingSince = nil
            let sameDay = state.dayStart.map { since >= $0 } ?? true
            if sameDay || state.lockCause == .limit {
                // Acknowledged; the day stays locked as a limit's lock would (no unlock lifts it), but it is still the
                // lock for unknown state, which alone never flattens: its cause stays (a limit's stays a limit's).
                let change = StateTransition(from: .locked, to: .locked,
                                             reason: "admin acknowledged: \(reason); locked until the daily reset", at: at)
                state.lockReason = change.reason
                note(change)
                return change
            }
            return release(reason: "admin acknowledged: \(reason)", at: at)
        }
        guard state.lockReason?.hasPrefix("admin:") == true else {
            throw IPCError(.conflict, "locked by a limit (\(state.lockReason ?? "no reason recorded")): only the daily reset lifts it")
        }
        return release(reason: "admin unlock: \(reason)", at: at)
    }

    private mutating func release(reason: String, at: Date) -> StateTransition {
        let from = state.emotion
        state.emotion = .calm
        state.lockReason = nil
        state.lockCause = nil
        let change = StateTransition(from: from, to: .calm, reason: reason, at: at)
        note(change)
        // Streaks and losses may call for another state than CALM at once.
        return reassess(at: change.at) ?? change
    }

    /// Sets or extends a self-lockout until `until` (checked by the caller against its wall clock).
    public mutating func selfLockout(until: Date, reason: String, now: Date, longest: TimeInterval) throws {
        guard until > now else { throw IPCError(.badRequest, "until: must be in the future") }
        guard until.timeIntervalSince(now) <= longest else {
            throw IPCError(.badRequest, "until: at most \(Int(longest / 86_400)) days ahead (mindset.max_self_lockout_days)")
        }
        if let current = state.selfLockoutUntil, current > now, until < current {
            throw IPCError(.conflict, "a self-lockout cannot be shortened: it runs until \(current)")
        }
        state.selfLockoutUntil = until
        state.selfLockoutReason = reason
    }

    /// The self-lockout in force at `now`, if any.
    public func selfLockout(at now: Date) -> (until: Date, reason: String)? {
        guard let until = state.selfLockoutUntil, now < until else { return nil }
        return (until, state.selfLockoutReason ?? "")
    }
}
