import Foundation

/// One structured log line as a daemon logged it (`logs.recent`, `GET /api/logs`).
public struct LogLine: Codable, Sendable, Equatable {
    public var time: Date
    /// swift-log's level: trace, debug, info, notice, warning, error, critical.
    public var level: String
    /// The logger's label: the daemon and its part (`routerd.router`, `gateway.http`).
    public var component: String
    public var message: String
    public var metadata: [String: String]
    /// Which process logged it; set by the gateway as it gathers them.
    public var daemon: String?

    public init(time: Date, level: String, component: String, message: String, metadata: [String: String], daemon: String? = nil) {
        self.time = time
        self.level = level
        self.component = component
        self.message = message
        self.metadata = metadata
        self.daemon = daemon
    }

    /// swift-log's levels, least severe first.
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The metadata keys that carry a request's id: the gateway's HTTP requests (Hummingbird) and orders' `requestId`.
    public static let requestIdKeys = ["hb.request.id", "request_id", "requestId"]
}

/// `logs.recent`: the lines a process still holds, newest first, that pass every filter given.
public struct LogQuery: Codable, Sendable, Equatable {
    /// This level and the more severe ones.
    public var level: String?
    /// Components equal to this or under it (`routerd` matches `routerd.router`).
    public var component: String?
    public var since: Date?
    public var requestId: String?
    public var limit: Int

    public init(level: String? = nil, component: String? = nil, since: Date? = nil, requestId: String? = nil, limit: Int = 200) {
        self.level = level
        self.component = component
        self.since = since
        self.requestId = requestId
        self.limit = limit
    }

    public static let maximumLimit = 1_000

    public func admits(_ line: LogLine) -> Bool {
        if let level, let wanted = LogLine.levels.firstIndex(of: level),
           (LogLine.levels.firstIndex(of: line.level) ?? Int.max) < wanted { return false }
        if let component, line.component != component, !line.component.hasPrefix(component + ".") { return false }
        if let since, line.time < since { return false }
        if let requestId, !LogLine.requestIdKeys.contains(where: { line.metadata[$0] == requestId }) { return false }
        return true
    }
}

public struct LogLinesResponse: Codable, Sendable {
    public var lines: [LogLine]
    /// How many lines the process keeps (older ones are gone).
    public var capacity: Int

    public init(lines: [LogLine], capacity: Int) {
        self.lines = lines
        self.capacity = capacity
    }
}
