import NIOConcurrencyHelpers
import NIOCore

/// One object per event loop, made on first use and kept for the process's life (NIO's singleton loops are
/// never shut down). Objects that stand for a loop (its task executor, its reply poller) must be one per
/// loop: Swift tells executors apart by identity, and a poller keeps the loop's state.
final class PerEventLoop<Value: AnyObject & Sendable>: Sendable {
    private let table = NIOLockedValueBox([ObjectIdentifier: Value]())
    private let make: @Sendable (EventLoop) -> Value

    init(_ make: @escaping @Sendable (EventLoop) -> Value) {
        self.make = make
    }

    func value(for eventLoop: EventLoop) -> Value {
        table.withLockedValue { table in
            if let existing = table[ObjectIdentifier(eventLoop)] { return existing }
            let value = make(eventLoop)
            table[ObjectIdentifier(eventLoop)] = value
            return value
        }
    }
}
