import Foundation
import BagbotDomain

/// A strategy's position in a symbol, as the fill log keys it (orders without a strategy: "").
public struct StrategyPositionKey: Codable, Sendable, Hashable {
    public var strategyId: String
    public var symbol: String
}

/// `max_trades_per_day` counts round trips, and the limit holds before they close: an entry is blocked when the day's
/// closed trades plus the positions grown today and not reduced since plus the entries approved and not yet filled
/// reach the limit — each of those is a trade of the day once it closes — unless its position is already one of them.
/// Entries approved together near the limit are held back this way; counting closed trades alone let every one of them
/// through. A position carried from an earlier day, or what a close left of one (dust), counts only once it grows
/// again (a re-entry from dust is a trade) or a trade closes it.
extension MindsetEngine {
    /// How long an approved entry counts while its own fill does not come (a refused or resting order stops counting
    /// then), on the engine's clock.
    static let pendingEntryLifetime: TimeInterval = 120

    /// An approved entry not yet seen filled.
    struct PendingEntry: Sendable, Equatable {
        var key: StrategyPositionKey
        /// The entry's request id, which its order and fills carry.
        var requestId: String
        var approvedAt: Date
    }

    /// The trades the day holds besides the closed ones: positions grown today and not reduced since, and entries on
    /// their way, by key.
    func committedPositions(at now: Date) -> Set<StrategyPositionKey> {
        var keys = Set(state.untradedOpens ?? [])
        for entry in pendingEntries where now.timeIntervalSince(entry.approvedAt) < Self.pendingEntryLifetime {
            keys.insert(entry.key)
        }
        return keys
    }

    /// Blocks an entry that would open one trade more than the day allows; nil when it may go on.
    func tradeLimitBlock(_ proposal: TradeProposal, at now: Date) -> MindsetDecision? {
        let committed = committedPositions(at: now)
        guard !committed.contains(StrategyPositionKey(strategyId: proposal.strategyId, symbol: proposal.symbol)),
              state.trades + committed.count >= rules.maxTradesPerDay else { return nil }
        return blocked("max_trades", "max trades per day reached (\(rules.maxTradesPerDay)): \(state.trades) closed, \(committed.count) open or on their way")
    }

    /// Notes an approved entry, and forgets those past their lifetime.
    mutating func notePendingEntry(_ proposal: TradeProposal, at now: Date) {
        pendingEntries.removeAll { now.timeIntervalSince($0.approvedAt) >= Self.pendingEntryLifetime }
        pendingEntries.append(PendingEntry(key: StrategyPositionKey(strategyId: proposal.strategyId, symbol: proposal.symbol),
                                           requestId: proposal.requestId, approvedAt: now))
    }

    /// A fill was counted: the entry it fills (by request id; a fill without one, by strategy and symbol) is now in
    /// the positions. Another order's fill in the same position (an exit before the re-entry) settles nothing.
    mutating func settlePendingEntries(after fill: Fill) {
        guard !pendingEntries.isEmpty else { return }
        if let requestId = fill.requestId {
            pendingEntries.removeAll { $0.requestId == requestId }
        } else {
            pendingEntries.removeAll { $0.key == StrategyPositionKey(strategyId: fill.strategyId ?? "", symbol: fill.symbol) }
        }
    }

    /// Follows a counted fill's effect on the positions grown today and not reduced since: a position opened (from flat,
    /// or flipped to the other side) or grown (a carried one added to, dust bought back up) is one; a reduction takes it
    /// off (its trade is counted, what is left is part of it).
    mutating func followOpens(strategyId: String, symbol: String, from before: ExactDecimal, to after: ExactDecimal) {
        guard before != after else { return }
        let key = StrategyPositionKey(strategyId: strategyId, symbol: symbol)
        var opens = state.untradedOpens ?? []
        let flipped = !before.isZero && !after.isZero && after.signum != before.signum
        let reduced = !before.isZero && (after.isZero || flipped || after.magnitude < before.magnitude)
        if reduced { opens.removeAll { $0 == key } }
        if !after.isZero, flipped || after.magnitude > before.magnitude, !opens.contains(key) { opens.append(key) }
        state.untradedOpens = opens
    }
}
