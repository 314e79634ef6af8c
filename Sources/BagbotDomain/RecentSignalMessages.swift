import Foundation

/// What became of a signal on arsenald's trade path, as `arsenal.signals` (and `GET /api/signals`) report it.
public enum SignalOutcome: String, Codable, Sendable, CaseIterable {
    /// Proposed; mindsetd has not answered yet.
    case pending
    /// mindsetd approved it (`decision` has the size multiplier); the order is on its way to routerd.
    case approved
    /// mindsetd said no, or could not be asked (failing closed): `decision` has the reasons and their codes.
    case blocked
    /// Approved, but below the symbol's minimum once rounded down to its step size: no order.
    case belowMinimum = "below_minimum"
    /// Never sent, for the reason in `detail` (another strategy's position, no short selling, routerd unavailable…).
    case notSent = "not_sent"
    /// routerd recorded the order (`clientOrderId`, `orderStatus`; a rejected order too, with `detail`).
    case placed
    /// Sent; routerd gave no answer arsenald could use (it is being looked up by `clientOrderId`).
    case unknown
}

/// `arsenal.decision` events: the signal and the mindset's answer.
public struct DecisionEvent: Codable, Sendable {
    public var signal: Signal
    public var decision: MindsetDecision?

    public init(signal: Signal, decision: MindsetDecision?) {
        self.signal = signal
        self.decision = decision
    }
}

/// One signal in arsenald's recent-signals buffer, with what came of it so far.
public struct SignalRecord: Codable, Sendable, Equatable {
    /// Counts the signals arsenald recorded since it started (newest is highest).
    public var sequence: Int
    /// When arsenald recorded it, on its own clock (`signal.time` is the tick's time, historic in a replay).
    public var recordedAt: Date
    public var signal: Signal
    public var outcome: SignalOutcome
    /// mindsetd's answer (for an exit, arsenald's own approval: exits go straight to routerd).
    public var decision: MindsetDecision?
    /// The order's client order id once it was sent (`placed`, `unknown`).
    public var clientOrderId: String?
    /// routerd's status of the order when it answered (`placed`).
    public var orderStatus: OrderStatus?
    /// Why it was not sent, or why the venue rejected it.
    public var detail: String?

    public init(sequence: Int, recordedAt: Date, signal: Signal, outcome: SignalOutcome = .pending, decision: MindsetDecision? = nil,
                clientOrderId: String? = nil, orderStatus: OrderStatus? = nil, detail: String? = nil) {
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.signal = signal
        self.outcome = outcome
        self.decision = decision
        self.clientOrderId = clientOrderId
        self.orderStatus = orderStatus
        self.detail = detail
    }
}

/// `arsenal.signals`: recent signals, newest first, filtered and paged.
public struct SignalsQuery: Codable, Sendable, Equatable {
    public var strategyId: String?
    public var symbol: String?
    public var outcome: SignalOutcome?
    /// Only signals recorded at or after this time (`recordedAt`).
    public var since: Date?
    public var limit: Int?
    /// The `nextCursor` of the previous page.
    public var after: String?

    public init(strategyId: String? = nil, symbol: String? = nil, outcome: SignalOutcome? = nil, since: Date? = nil,
                limit: Int? = nil, after: String? = nil) {
        self.strategyId = strategyId
        self.symbol = symbol
        self.outcome = outcome
        self.since = since
        self.limit = limit
        self.after = after
    }
}

public struct SignalsResponse: Codable, Sendable, Equatable {
    public var signals: [SignalRecord]
    /// Set when more signals match after the last one: pass it as `after` for the next page.
    public var nextCursor: String?
    /// How many signals arsenald keeps (the oldest go first; a restart empties the buffer).
    public var capacity: Int

    public init(signals: [SignalRecord], nextCursor: String? = nil, capacity: Int) {
        self.signals = signals
        self.nextCursor = nextCursor
        self.capacity = capacity
    }
}
