import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// The last `capacity` signals the trade path proposed, with what came of each, in memory only (a restart empties
/// it): what `arsenal.signals` answers. Its own lock, not the coordinator's actor: reading it never waits for, or
/// delays, a tick.
public final class RecentSignals: Sendable {
    public static let defaultCapacity = 1_000
    /// The most a page holds; a larger `limit` is refused.
    public static let maximumPage = 1_000

    public let capacity: Int
    /// Names this buffer in its cursors: a cursor from before a restart is refused, not read against other signals.
    private let runId: String
    private let clock: @Sendable () -> Date
    private let state = NIOLockedValueBox(Ring())

    private struct Ring {
        /// Oldest first; at most `capacity`.
        var records: [SignalRecord] = []
        /// Index of the oldest record once the ring is full.
        var start = 0
        var lastSequence = 0
        /// requestId → sequence of its newest record, for the outcome's updates.
        var sequenceByRequest: [String: Int] = [:]
    }

    public init(capacity: Int = RecentSignals.defaultCapacity, clock: @escaping @Sendable () -> Date = { Date() }) {
        precondition(capacity > 0, "a buffer of no signals")
        self.capacity = capacity
        self.clock = clock
        runId = Crypto.hex((try? Crypto.randomBytes(4)) ?? Array(UInt32.random(in: 0...UInt32.max).bigEndianBytes))
    }

    /// Records a signal just proposed (`pending`).
    public func proposed(_ signal: Signal) {
        let now = clock()
        state.withLockedValue { ring in
            ring.lastSequence += 1
            let record = SignalRecord(sequence: ring.lastSequence, recordedAt: now, signal: signal)
            if ring.records.count < capacity {
                ring.records.append(record)
            } else {
                let evicted = ring.records[ring.start]
                if ring.sequenceByRequest[evicted.signal.requestId] == evicted.sequence {
                    ring.sequenceByRequest.removeValue(forKey: evicted.signal.requestId)
                }
                ring.records[ring.start] = record
                ring.start = (ring.start + 1) % capacity
            }
            ring.sequenceByRequest[signal.requestId] = record.sequence
        }
    }

    /// mindsetd's answer (or the exit's own approval): `approved` or `blocked` until the outcome is known.
    public func decided(_ requestId: String, _ decision: MindsetDecision) {
        update(requestId) { record in
            record.decision = decision
            record.outcome = decision.approved && decision.approvedQuantity.isPositive ? .approved : .blocked
        }
    }

    /// What finally came of the signal.
    public func settled(_ requestId: String, _ outcome: TradeOutcome) {
        update(requestId) { record in
            switch outcome {
            case .notSent(let reason):
                record.outcome = .notSent
                record.detail = reason
            case .belowMinimum(let reason):
                record.outcome = .belowMinimum
                record.detail = reason
            case .blocked(let decision):
                record.outcome = .blocked
                record.decision = decision
            case .placed(let order, let decision):
                record.outcome = .placed
                record.decision = decision
                record.clientOrderId = order.clientOrderId
                record.orderStatus = order.status
                record.detail = order.rejectReason
            case .unknown(let clientOrderId):
                record.outcome = .unknown
                record.clientOrderId = clientOrderId
            }
        }
    }

    private func update(_ requestId: String, _ change: (inout SignalRecord) -> Void) {
        state.withLockedValue { ring in
            // Gone from the buffer already (more than `capacity` newer signals): nothing to update.
            guard let sequence = ring.sequenceByRequest[requestId], let oldest = ring.records.isEmpty ? nil : ring.records[ring.start].sequence,
                  sequence >= oldest else { return }
            change(&ring.records[(ring.start + sequence - oldest) % ring.records.count])
        }
    }

    /// Newest first, filtered, at most `limit` (default 100); `after` is the previous page's `nextCursor`.
    public func page(_ query: SignalsQuery) throws -> SignalsResponse {
        let limit = query.limit ?? 100
        guard (1...Self.maximumPage).contains(limit) else { throw IPCError(.badRequest, "limit must be 1…\(Self.maximumPage), got \(limit)") }
        let before = try query.after.map(sequence(inCursor:)) ?? Int.max
        return state.withLockedValue { ring in
            var found: [SignalRecord] = []
            var more = false
            for offset in stride(from: ring.records.count - 1, through: 0, by: -1) {
                let record = ring.records[(ring.start + offset) % ring.records.count]
                guard record.sequence < before else { continue }
                guard Self.matches(record, query) else { continue }
                if found.count == limit {
                    more = true
                    break
                }
                found.append(record)
            }
            return SignalsResponse(signals: found, nextCursor: more ? found.last.map { "\(runId):\($0.sequence)" } : nil, capacity: capacity)
        }
    }

    static func matches(_ record: SignalRecord, _ query: SignalsQuery) -> Bool {
        if let strategy = query.strategyId, record.signal.strategyId != strategy { return false }
        if let symbol = query.symbol, record.signal.symbol != symbol { return false }
        if let outcome = query.outcome, record.outcome != outcome { return false }
        if let since = query.since, record.recordedAt < since { return false }
        return true
    }

    /// A cursor is `<runId>:<sequence>` of the last signal of the previous page.
    private func sequence(inCursor cursor: String) throws -> Int {
        let parts = cursor.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = Int(parts[1]), sequence > 0 else {
            throw IPCError(.badRequest, "cursor is not one arsenald gave out (use nextCursor as it came)")
        }
        guard parts[0] == runId else {
            throw IPCError(.badRequest, "cursor is from before arsenald restarted (its recent signals started over); ask again without a cursor")
        }
        return sequence
    }
}
