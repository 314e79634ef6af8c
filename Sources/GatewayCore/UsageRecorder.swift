import BagbotStorage
import Foundation
import GRDB
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// One API call, as `usage_logs` keeps it.
public struct UsageEntry: Sendable, Equatable {
    public var tokenId: String
    public var method: String
    /// The route's pattern (`/api/admin/tokens/{id}`), never the concrete path, so rows group by route.
    public var route: String
    public var status: Int
    public var latencyMs: Double
    public var time: Date
}

/// The bounded buffer between requests and `usage_logs`: `record` never waits and never blocks a request (a call
/// that finds the buffer full is counted in `dropped` and logged), a service writes the buffer in batches off the
/// request path, and writes what is left when the gateway stops. Each token's `last_used_at` is written with the
/// same batch, so a request costs no write of its own.
public final class UsageRecorder: Service, Sendable {
    struct Buffer {
        var entries: [UsageEntry] = []
        var lastUsed: [String: Date] = [:]
        var dropped = 0
        var written = 0
    }

    private let database: DatabasePool
    private let capacity: Int
    private let batchSize: Int
    private let flushInterval: Duration
    private let logger: Logger
    private let buffer = NIOLockedValueBox(Buffer())
    /// `dropped`, for Prometheus.
    private let droppedCounter = Metrics.Counter(label: "bagbot_usage_buffer_dropped_total")
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    public init(database: DatabasePool, settings: GatewaySettings.Usage, logger: Logger) {
        self.database = database
        capacity = settings.bufferCapacity
        batchSize = settings.batchSize
        flushInterval = .milliseconds(settings.flushIntervalMs)
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Buffers one call; false (and counted) when the buffer is full.
    @discardableResult
    public func record(_ entry: UsageEntry) -> Bool {
        let (accepted, count, droppedSoFar) = buffer.withLockedValue { buffer -> (Bool, Int, Int) in
            buffer.lastUsed[entry.tokenId] = max(buffer.lastUsed[entry.tokenId] ?? entry.time, entry.time)
            guard buffer.entries.count < capacity else {
                buffer.dropped += 1
                return (false, buffer.entries.count, buffer.dropped)
            }
            buffer.entries.append(entry)
            return (true, buffer.entries.count, buffer.dropped)
        }
        if !accepted {
            droppedCounter.increment()
            // Once per power of two, so a flood is visible in the log without flooding it.
            if droppedSoFar & (droppedSoFar - 1) == 0 {
                logger.warning("usage buffer full: call not recorded", metadata: ["dropped_total": "\(droppedSoFar)", "capacity": "\(capacity)"])
            }
        } else if count >= batchSize {
            wake.yield()
        }
        return accepted
    }

    /// Calls refused by a full buffer since the start.
    public var dropped: Int { buffer.withLockedValue { $0.dropped } }
    /// Calls written to `usage_logs` since the start.
    public var written: Int { buffer.withLockedValue { $0.written } }
    /// Calls waiting in memory.
    public var pending: Int { buffer.withLockedValue { $0.entries.count } }

    static let rowsPerStatement = 64
    /// The INSERT of `n` rows, for `n` in 1…`rowsPerStatement` (index 0 unused). `OR FAIL`: a statement of several
    /// rows that may abort makes SQLite keep a statement journal, to undo that statement alone, and copy every page
    /// it touches to a temporary file first: two `pwrite`s a row, eight times the WAL's, about 40 % of a batch's
    /// time (docs/performance.md, "The gateway under wrk"). A failing row fails the whole transaction all the same
    /// (`write` rolls it back and puts the calls back in the buffer): nothing needs undoing a statement at a time.
    static let insertText: [String] = (0...rowsPerStatement).map { rows in
        "INSERT OR FAIL INTO usage_logs (token_id, method, route, status, latency_ms, time) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// Writes everything buffered, `batch_size` calls to a transaction, so that one write never holds `bagbot.db`'s
    /// write lock (which routerd's orders take too) for longer than a batch takes. On failure the calls of the failed
    /// transaction go back to the front of the buffer (as many as fit; the rest are counted as dropped) and the error
    /// is thrown. Calls buffered meanwhile wait for the next flush, so a flood cannot keep one flush going.
    public func flush() async throws {
        var left = buffer.withLockedValue { $0.entries.count }
        repeat {
            let (entries, lastUsed) = buffer.withLockedValue { buffer in
                let taken = Array(buffer.entries.prefix(min(batchSize, max(left, 0))))
                buffer.entries.removeFirst(taken.count)
                let lastUsed = buffer.lastUsed
                buffer.lastUsed = [:]
                return (taken, lastUsed)
            }
            guard !entries.isEmpty || !lastUsed.isEmpty else { return }
            try await write(entries, lastUsed: lastUsed)
            left -= entries.count
        } while left > 0
    }

    private func write(_ entries: [UsageEntry], lastUsed: [String: Date]) async throws {
        do {
            try await database.write { db in
                // Up to 64 rows a statement: a row's own statement (its step, reset and argument checks) cost more
                // than its insert, about 8 % of the gateway's CPU at 15,000 calls a second.
                for start in stride(from: 0, to: entries.count, by: Self.rowsPerStatement) {
                    let rows = entries[start..<min(start + Self.rowsPerStatement, entries.count)]
                    var values: [(any DatabaseValueConvertible)?] = []
                    values.reserveCapacity(rows.count * 6)
                    for entry in rows {
                        // Times as GRDB writes them, without its DateFormatter (ICU: about 8 µs a date, 500 a batch).
                        values += [entry.tokenId, entry.method, entry.route, entry.status, entry.latencyMs, entry.time.databaseText]
                    }
                    try db.cachedStatement(sql: Self.insertText[rows.count]).execute(arguments: StatementArguments(values))
                }
                let touch = try db.cachedStatement(sql: """
                    UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)
                    """)
                for (id, time) in lastUsed {
                    try touch.execute(arguments: [time.databaseText, id, time.databaseText])
                }
            }
            buffer.withLockedValue { $0.written += entries.count }
        } catch {
            let lost = buffer.withLockedValue { buffer in
                let room = max(0, capacity - buffer.entries.count)
                let lost = max(0, entries.count - room)
                buffer.dropped += lost
                buffer.entries.insert(contentsOf: entries.prefix(room), at: 0)
                for (id, time) in lastUsed where (buffer.lastUsed[id] ?? .distantPast) < time { buffer.lastUsed[id] = time }
                return lost
            }
            droppedCounter.increment(by: lost)
            throw error
        }
    }

    private func flushLogging() async {
        do {
            try await flush()
        } catch {
            logger.error("writing usage_logs failed; calls kept in memory for the next attempt", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a batch every `flush_interval_ms`, or sooner when `batch_size` calls wait, until the gateway stops;
    /// then writes the rest. The HTTP server is later in the daemon's service group, so it has stopped taking
    /// requests before this final write.
    public func run() async throws {
        let interval = flushInterval
        let wake = self.wake
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                for await _ in wakes {
                    await flushLogging()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.finish()
        }
        // Cancellation (not a graceful stop) also ends the loop: the stream finishes when its task is cancelled.
        await flushLogging()
        let (remaining, dropped) = buffer.withLockedValue { ($0.entries.count, $0.dropped) }
        logger.info("usage recorder stopped", metadata: ["unwritten": "\(remaining)", "dropped_total": "\(dropped)"])
    }
}
