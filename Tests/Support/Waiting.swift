import Foundation
import Logging

/// A logger that drops everything, for tests whose subject logs.
public let quietLogger = Logger(label: "bagbot.tests") { _ in SwiftLogNoOpLogHandler() }

/// Runs blocking work on a thread of its own, so blocking socket reads never occupy the cooperative pool
/// (async handlers on a server need that pool to answer).
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// Polls `condition` until it holds; the timeout is only a hang guard, never an assertion on time.
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(60), _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// `waitUntil` for an asynchronous, throwing condition, polled every `interval`.
public func waitFor(
    _ what: String, timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}
