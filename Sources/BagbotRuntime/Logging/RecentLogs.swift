import Foundation
import Synchronization
import BagbotDomain
import BagbotIPC

/// The last log lines of this process, kept in memory for `GET /api/logs` (through `logs.recent` for the daemons):
/// an operator's first look without a shell on the machine. The journal (or `bagbot up`'s output) keeps everything.
public final class RecentLogs: Sendable {
    public static let shared = RecentLogs(capacity: 2_000)

    public let capacity: Int
    private let ring: Mutex<(lines: [LogLine], next: Int)>

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        ring = Mutex(([], 0))
    }

    /// What the log handler calls for each line (tests too).
    public func append(_ line: LogLine) {
        ring.withLock { ring in
            if ring.lines.count < capacity {
                ring.lines.append(line)
            } else {
                ring.lines[ring.next] = line
                ring.next = (ring.next + 1) % capacity
            }
        }
    }

    /// Newest first, at most `query.limit` (capped at `LogQuery.maximumLimit`).
    public func lines(_ query: LogQuery) -> [LogLine] {
        let (lines, next) = ring.withLock { ($0.lines, $0.next) }
        let limit = max(0, min(query.limit, LogQuery.maximumLimit))
        var found: [LogLine] = []
        // Oldest is at `next` once the ring is full; walk back from the newest.
        for offset in 0..<lines.count where found.count < limit {
            let line = lines[(next - 1 - offset + 2 * lines.count) % lines.count]
            if query.admits(line) { found.append(line) }
        }
        return found
    }

    /// `logs.recent` on a daemon's IPC server.
    public func register(on registry: IPCMethodRegistry) {
        registry.registerSync(Methods.logsRecent, LogQuery.self) { [self] query, _ in
            guard query.limit >= 1, query.limit <= LogQuery.maximumLimit else {
                throw IPCError(.badRequest, "limit must be 1–\(LogQuery.maximumLimit)")
            }
            if let level = query.level, !LogLine.levels.contains(level) {
                throw IPCError(.badRequest, "level must be one of \(LogLine.levels.joined(separator: ", "))")
            }
            return LogLinesResponse(lines: lines(query), capacity: capacity)
        }
    }
}
