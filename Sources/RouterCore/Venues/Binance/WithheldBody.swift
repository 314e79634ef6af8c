import NIOCore
import Synchronization

/// A request body that is handed to the connection only once its `SendPermission` is granted: AsyncHTTPClient writes
/// the request's head at once and reads the body after, so everything but these bytes is on its way beforehand.
/// Refused, or granted too late (its signed timestamp would be stale), reading it fails, and AsyncHTTPClient fails
/// the request and closes its connection without sending it.
///
/// Whether the bytes left is one atomic state, so that the two sides cannot both win: the body's reader hands them
/// over only if nobody has sealed it, and the request's failure path seals it only if they were not handed over
/// (`sealUnsent`). A sealed body's request never carried its parameters: Binance cannot have acted on it.
final class WithheldBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let bytes: ByteBuffer
    private let permission: SendPermission
    /// After this the bytes are not handed over even if granted: their timestamp would be near the end of its
    /// `recvWindow`, or the request's deadline near.
    private let sendBy: ContinuousClock.Instant
    private let state = Atomic<UInt8>(State.withheld)

    private enum State {
        static let withheld: UInt8 = 0
        static let handedOver: UInt8 = 1
        static let sealed: UInt8 = 2
    }

    init(_ bytes: ByteBuffer, until permission: SendPermission, sendBy: ContinuousClock.Instant) {
        self.bytes = bytes
        self.permission = permission
        self.sendBy = sendBy
    }

    /// Seals the body if its bytes were not handed over: true when they never were (and now never will be), false
    /// when they were (the request may have reached the venue).
    func sealUnsent() -> Bool {
        let (exchanged, original) = state.compareExchange(expected: State.withheld, desired: State.sealed, ordering: .acquiringAndReleasing)
        return exchanged || original == State.sealed
    }

    struct NotHandedOver: Error, CustomStringConvertible {
        var description: String
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: WithheldBody
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            done = true
            guard await body.permission.decision() else { throw NotHandedOver(description: SendPermission.refusedReason) }
            guard ContinuousClock.now < body.sendBy else {
                _ = body.sealUnsent()
                throw NotHandedOver(description: "granted too late for its signed timestamp and deadline; sent afresh")
            }
            let (exchanged, _) = body.state.compareExchange(expected: State.withheld, desired: State.handedOver, ordering: .acquiringAndReleasing)
            guard exchanged else { throw NotHandedOver(description: "its request had already ended") }
            return body.bytes
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
