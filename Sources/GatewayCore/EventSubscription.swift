import NIOConcurrencyHelpers

/// One client of `GET /api/events`: what it missed (from the fan-out's buffer), then its own bounded queue of live
/// events. Cancelled when its connection ends, or when it is released unused (a HEAD request drops the body).
final class EventSubscription: Sendable {
    enum Delivery: Sendable {
        case event(StreamEvent)
        case heartbeat
    }

    /// Why the stream ended from the gateway's side.
    enum End: Sendable, Equatable {
        /// The client's queue filled: it reads slower than events come. Its connection is closed.
        case tooSlow
        /// The gateway is stopping.
        case shutdown
    }

    /// A `Last-Event-ID` older than the buffer (or not of this gateway): events were missed.
    struct Missed: Sendable, Equatable {
        var lastEventId: UInt64
        /// The oldest event still buffered (sent next), or the next id when the buffer is empty.
        var firstAvailableId: UInt64
    }

    let id: Int
    /// Buffered events after the client's `Last-Event-ID`, oldest first: written before `deliveries`.
    let replay: [StreamEvent]
    let missed: Missed?
    /// Each daemon's state when the client connected (`up`/`down`), its first notice.
    let daemons: [String: String]
    let deliveries: AsyncStream<Delivery>
    private let ended: NIOLockedValueBox<End?>
    private let fanOut: EventFanOut

    init(id: Int, replay: [StreamEvent], missed: Missed?, daemons: [String: String], deliveries: AsyncStream<Delivery>,
         ended: NIOLockedValueBox<End?>, fanOut: EventFanOut) {
        self.id = id
        self.replay = replay
        self.missed = missed
        self.daemons = daemons
        self.deliveries = deliveries
        self.ended = ended
        self.fanOut = fanOut
    }

    var end: End? { ended.withLockedValue { $0 } }

    /// Leaves the fan-out (idempotent).
    func cancel() {
        fanOut.remove(id)
    }

    deinit {
        fanOut.remove(id)
    }
}
