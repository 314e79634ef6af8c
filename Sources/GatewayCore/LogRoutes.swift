import Foundation
import Hummingbird
import HummingbirdCore
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `GET /api/logs`: the recent structured log lines of all four processes, newest first, gathered at once (each daemon's
/// `logs.recent`, 1 s each; the gateway's own). Admin tokens only: lines name tokens' prefixes, orders and errors. A
/// daemon that does not answer is listed in `unavailable` and the others' lines still come: the route exists to look
/// at a system that is partly down.
enum LogRoutes {
    struct Page: Encodable {
        var lines: [LogLine]
        /// Processes whose lines are missing (down, or too slow).
        var unavailable: [String]
        /// Lines each process keeps; older ones are only in the journal.
        var capacity: Int
    }

    static let processes = ["gateway", "mindsetd", "arsenald", "routerd"]

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let logs = router.group("/api/logs").add(middleware: RequireAdminMiddleware())
        logs.get { request, _ in
            let (query, only) = try LogQueryParameters.query(from: request.uri.queryParameters)
            return try JSONResponse.make(await gather(query, from: only, environment: environment))
        }
        table.note("/api/logs", .get)
    }

    static func gather(_ query: LogQuery, from only: String?, environment: GatewayEnvironment) async -> Page {
        var lines: [LogLine] = []
        var unavailable: [String] = []
        if only == nil || only == "gateway" {
            lines += environment.recentLogs.lines(query).map { line in var line = line; line.daemon = "gateway"; return line }
        }
        await withTaskGroup(of: (String, [LogLine]?).self) { group in
            for client in environment.daemons.all where only == nil || only == client.peerService {
                group.addTask {
                    let answer: LogLinesResponse? = try? await client.call(Methods.logsRecent, query, timeout: .seconds(1))
                    return (client.peerService, answer?.lines.map { line in var line = line; line.daemon = client.peerService; return line })
                }
            }
            for await (name, answered) in group {
                if let answered { lines += answered } else { unavailable.append(name) }
            }
        }
        lines.sort { ($0.time, $0.daemon ?? "") > ($1.time, $1.daemon ?? "") }
        return Page(lines: Array(lines.prefix(query.limit)), unavailable: unavailable.sorted(), capacity: environment.recentLogs.capacity)
    }
}

/// The query of `GET /api/logs`.
enum LogQueryParameters {
    static let known: [Substring] = ["level", "component", "since", "requestId", "request_id", "daemon", "limit"]

    static func query(from parameters: FlatDictionary<Substring, Substring>) throws -> (LogQuery, daemon: String?) {
        if let unknown = parameters.first(where: { !known.contains($0.key) }) {
            throw APIError.badRequest("unknown query parameter '\(LogExcerpt.of(String(unknown.key), limit: 40))'; known: \(known.joined(separator: ", "))")
        }
        var query = LogQuery()
        if let level = parameters["level"] {
            guard LogLine.levels.contains(String(level)) else {
                throw APIError.badRequest("level must be one of \(LogLine.levels.joined(separator: ", "))")
            }
            query.level = String(level)
        }
        if let component = parameters["component"] {
            guard (1...64).contains(component.utf8.count), component.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw APIError.badRequest("component must be 1–64 letters, digits and . _ -, such as routerd or gateway.http")
            }
            query.component = String(component)
        }
        if let since = parameters["since"] { query.since = try OrderQueryParameters.date(since, name: "since") }
        // `request_id` is the name the lines carry it under; either spelling, but one id.
        let requestIds = Set(parameters.filter { $0.key == "requestId" || $0.key == "request_id" }.map(\.value))
        if let requestId = requestIds.first {
            guard requestIds.count == 1 else {
                throw APIError.badRequest("requestId and request_id name different requests; give one")
            }
            guard RequestId.isWellFormed(requestId) else {
                throw APIError.badRequest("requestId must be 1–128 visible ASCII characters")
            }
            query.requestId = String(requestId)
        }
        var daemon: String?
        if let name = parameters["daemon"] {
            guard LogRoutes.processes.contains(String(name)) else {
                throw APIError.badRequest("daemon must be one of \(LogRoutes.processes.joined(separator: ", "))")
            }
            daemon = String(name)
        }
        if let limit = parameters["limit"] {
            guard let value = Int(limit), (1...LogQuery.maximumLimit).contains(value) else {
                throw APIError.badRequest("limit must be a whole number from 1 to \(LogQuery.maximumLimit)")
            }
            query.limit = value
        }
        return (query, daemon)
    }
}
