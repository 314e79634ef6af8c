import Foundation
import GRDB
import Hummingbird
import HummingbirdCore

/// Reads of `usage_logs` by owner (through `api_tokens`). Rows reach the table in batches, so a call appears here
/// within `gateway.usage.flush_interval_ms` of being made.
enum UsageQueries {
    /// One day's calls on one route.
    struct RouteUsage: Codable, Equatable, Sendable {
        var method: String
        var route: String
        /// Every call recorded, refused or not.
        var calls: Int
        /// Calls refused by a rate limit (429): they consumed no quota.
        var throttled: Int
        /// Calls answered with another 4xx or a 5xx.
        var errors: Int
    }

    struct DayUsage: Codable, Equatable, Sendable {
        /// The UTC day, YYYY-MM-DD.
        var day: String
        /// Calls that counted against the quota (all but the 429s).
        var counted: Int
        var routes: [RouteUsage]
    }

    /// What the rate limiter needs of `owner` after a restart: the times admitted in the last 60 s and the number
    /// admitted since 00:00 UTC (429s consumed nothing and are left out).
    static func seed(database: DatabasePool, owner: String, now: Date) async throws -> RateLimiter.Seed {
        let dayStart = RateLimiter.startOfUTCDay(now)
        let minuteStart = now.addingTimeInterval(-RateLimiter.minuteWindow)
        return try await database.read { db in
            let dayCount = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM usage_logs u JOIN api_tokens t ON t.id = u.token_id
                WHERE t.owner = ? AND u.status != 429 AND u.time >= ? AND u.time <= ?
                """, arguments: [owner, dayStart, now]) ?? 0
            let times = try Date.fetchAll(db, sql: """
                SELECT u.time FROM usage_logs u JOIN api_tokens t ON t.id = u.token_id
                WHERE t.owner = ? AND u.status != 429 AND u.time > ? AND u.time <= ? ORDER BY u.time
                """, arguments: [owner, minuteStart, now])
            return RateLimiter.Seed(minuteTimes: times, dayCount: dayCount, day: RateLimiter.utcDay(now))
        }
    }

    /// `owner`'s calls of the last `days` UTC days (today included), newest day first, routes in order.
    static func byDayAndRoute(database: DatabasePool, owner: String, days: Int, now: Date) async throws -> [DayUsage] {
        let since = RateLimiter.startOfUTCDay(now).addingTimeInterval(-Double(days - 1) * 86_400)
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT date(u.time) AS day, u.method, u.route, COUNT(*) AS calls,
                       SUM(u.status = 429) AS throttled, SUM(u.status >= 400 AND u.status != 429) AS errors
                FROM usage_logs u JOIN api_tokens t ON t.id = u.token_id
                WHERE t.owner = ? AND u.time >= ?
                GROUP BY day, u.method, u.route
                ORDER BY day DESC, u.route, u.method
                """, arguments: [owner, since])
        }
        var result: [DayUsage] = []
        for row in rows {
            let day: String = row["day"]
            let usage = RouteUsage(method: row["method"], route: row["route"], calls: row["calls"], throttled: row["throttled"], errors: row["errors"])
            if result.last?.day == day {
                result[result.count - 1].routes.append(usage)
            } else {
                result.append(DayUsage(day: day, counted: 0, routes: [usage]))
            }
            result[result.count - 1].counted += usage.calls - usage.throttled
        }
        return result
    }

    /// One owner's calls over the days asked for, for the admin's view of every subscriber.
    struct OwnerUsage: Codable, Equatable, Sendable {
        var owner: String
        /// Calls that counted against the quota (all but the 429s).
        var counted: Int
        var throttled: Int
        var errors: Int
        /// The latest call recorded.
        var lastCallAt: Date?
    }

    /// Every owner with a call in the last `days` UTC days (today included), the busiest first.
    static func byOwner(database: DatabasePool, days: Int, now: Date) async throws -> [OwnerUsage] {
        let since = RateLimiter.startOfUTCDay(now).addingTimeInterval(-Double(days - 1) * 86_400)
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.owner, COUNT(*) AS calls, SUM(u.status = 429) AS throttled,
                       SUM(u.status >= 400 AND u.status != 429) AS errors, MAX(u.time) AS last
                FROM usage_logs u JOIN api_tokens t ON t.id = u.token_id
                WHERE u.time >= ?
                GROUP BY t.owner
                ORDER BY calls DESC, t.owner
                """, arguments: [since])
        }
        return rows.map { row in
            let calls: Int = row["calls"], throttled: Int = row["throttled"]
            return OwnerUsage(owner: row["owner"], counted: calls - throttled, throttled: throttled, errors: row["errors"], lastCallAt: row["last"])
        }
    }

    /// `days` from a query: 1–90, 7 when absent.
    static func days(_ parameters: FlatDictionary<Substring, Substring>) throws -> Int {
        if let unknown = parameters.first(where: { $0.key != "days" }) {
            throw APIError.badRequest("unknown query parameter '\(unknown.key.prefix(40))'; known: days")
        }
        guard let text = parameters["days"] else { return 7 }
        guard let value = Int(text), (1...90).contains(value) else { throw APIError.badRequest("days must be a whole number from 1 to 90") }
        return value
    }
}
