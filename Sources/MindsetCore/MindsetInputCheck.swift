import Foundation
import BagbotDomain
import BagbotIPC

/// What mindsetd checks of a peer's request before it changes anything: a refused request is answered
/// `bad_request` naming the field, and leaves the state as it was (docs/mindset.md, "Input").
///
/// Times must lie within `maxClockSkew` of mindsetd's wall clock, so no message can move the engine's clock
/// more than the skew ahead of the real time. A replay not at real time opens the skew (`bagbot up --speed`).
/// A closed trade may be late (sent after an outage), so only its future is bounded. Exits are not checked
/// beyond their size: reducing risk is never refused.
struct MindsetInputCheck {
    let maxClockSkew: TimeInterval?
    let wallClock: Date

    /// The latest time the engine may take from a peer or a fill (nil: no bound).
    var ceiling: Date? { maxClockSkew.map { wallClock.addingTimeInterval($0) } }

    func proposal(_ proposal: TradeProposal) throws {
        try positive(proposal.quantity, field: "quantity")
        try positive(proposal.price, field: "price")
        guard proposal.isEntry else { return }
        try time(proposal.time, field: "time")
        guard (try? proposal.quantity.times(proposal.price)) != nil else {
            throw IPCError(.badRequest, "quantity × price: \(proposal.quantity) × \(proposal.price) is out of range")
        }
        guard proposal.strength.isFinite, proposal.strength >= 0 else {
            throw IPCError(.badRequest, "strength: must be a finite number ≥ 0, got \(proposal.strength)")
        }
        guard proposal.confidence.isFinite, (0...1).contains(proposal.confidence) else {
            throw IPCError(.badRequest, "confidence: must be between 0 and 1, got \(proposal.confidence)")
        }
    }

    func trade(_ trade: ClosedTrade) throws {
        try time(trade.closedAt, field: "closedAt", lateAllowed: true)
        try positive(trade.quantity, field: "quantity")
        try positive(trade.entryPrice, field: "entryPrice")
        // A position can close at zero (a total loss): that loss must count, not be refused.
        guard !trade.exitPrice.isNegative else { throw IPCError(.badRequest, "exitPrice: must not be negative, got \(trade.exitPrice)") }
        guard (try? trade.quantity.times(max(trade.entryPrice, trade.exitPrice))) != nil else {
            throw IPCError(.badRequest, "quantity × price: the trade's notional is out of range")
        }
    }

    func time(_ time: Date, field: String, lateAllowed: Bool = false) throws {
        guard let skew = maxClockSkew else { return }
        let latest = wallClock.addingTimeInterval(skew)
        let earliest = wallClock.addingTimeInterval(-skew)
        guard time <= latest, lateAllowed || time >= earliest else {
            throw IPCError(.badRequest, "\(field): \(Self.iso(time)) is more than \(Int(skew)) s from mindsetd's clock (\(Self.iso(wallClock)))")
        }
    }

    private func positive(_ value: ExactDecimal, field: String) throws {
        guard value.isPositive else { throw IPCError(.badRequest, "\(field): must be a positive number, got \(value)") }
    }

    private static func iso(_ date: Date) -> String {
        date.timeIntervalSince1970.isFinite ? ISO8601DateFormatter().string(from: date) : "\(date.timeIntervalSince1970)"
    }
}
