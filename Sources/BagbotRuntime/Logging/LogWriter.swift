#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Writes log lines to standard error from one thread of its own, so that logging never blocks the caller.
///
/// A write to standard error blocks when nobody reads it fast enough: journald stalls, `bagbot up`'s output
/// goes to a paused terminal or a full pipe. arsenald's trade path and all its IPC connections share one
/// event loop, and a log line written there would freeze all of them (and, through the health check, get the
/// daemon killed by the watchdog). Lines are queued instead, up to `capacity`; beyond that they are dropped
/// and counted, and a warning says how many once standard error drains again.
final class LogWriter: @unchecked Sendable {
    static let shared = LogWriter(descriptor: 2, capacity: 10_000)

    private let descriptor: Int32
    private let capacity: Int
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    /// Each line's text, made on this writer's thread.
    private var queue: [@Sendable () -> String] = []
    private var dropped = 0
    private var writing = false
    private var started = false
    private var format = LogSetup.Format.plain

    init(descriptor: Int32, capacity: Int) {
        self.descriptor = descriptor
        self.capacity = capacity
    }

    /// Lines dropped since the process started because the queue was full.
    var droppedTotal: Int { condition.withLock { droppedTotalStorage } }
    private var droppedTotalStorage = 0

    func configure(format: LogSetup.Format) {
        condition.withLock { self.format = format }
    }

    func enqueue(_ line: String) {
        enqueue { line }
    }

    /// A line made when it is written, on this writer's thread: the caller only hands over what it needs.
    func enqueue(_ line: @escaping @Sendable () -> String) {
        condition.lock()
        if !started {
            started = true
            let thread = Thread { [self] in self.run() }
            thread.name = "log-writer"
            thread.start()
        }
        if queue.count >= capacity {
            dropped += 1
            droppedTotalStorage += 1
        } else {
            queue.append(line)
        }
        condition.signal()
        condition.unlock()
    }

    /// Waits until every queued line is written, or `timeout` passed (standard error may be the thing
    /// that is stuck). Runs at exit.
    func flush(timeout: TimeInterval = 2) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while started && (!queue.isEmpty || writing) {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && dropped == 0 { condition.wait() }
            let lines = queue
            queue.removeAll(keepingCapacity: true)
            let lost = dropped
            dropped = 0
            let format = format
            writing = true
            condition.unlock()
            var text = ""
            for line in lines { text += line() }
            if lost > 0 {
                text += BagbotLogHandler.render(
                    level: .warning, label: "log",
                    text: "\(lost) log lines were dropped: standard error was not being read fast enough",
                    format: format)
            }
            UnbufferedOutput.write(text, to: descriptor)
            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
