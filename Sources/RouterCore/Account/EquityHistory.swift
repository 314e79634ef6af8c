import Foundation
import GRDB
import Logging
import BagbotDomain

/// The account's equity over time, for the equity curves a trader looks at (`router.equityHistory`): routerd writes
/// a sample every `router.account.equity_sample_seconds` to `equity_samples` and keeps 35 days. A sample taken
/// while an asset could not be valued is kept with `complete: false` — its equity leaves that asset out.
public struct EquityHistory: Sendable {
    static let retention: TimeInterval = 35 * 86_400

    let database: DatabasePool

    public init(database: DatabasePool) {
        self.database = database
    }

    /// Writes one sample (a later one at the same instant replaces it) and forgets those past the retention.
    public func record(_ account: AccountSummary, at time: Date) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO equity_samples (time, currency, equity, complete) VALUES (?, ?, ?, ?)",
                           arguments: [time, account.currency, account.equity.description, account.unvalued.isEmpty])
            try db.execute(sql: "DELETE FROM equity_samples WHERE time < ?", arguments: [time.addingTimeInterval(-Self.retention)])
        }
    }

    /// The samples since `since`, oldest first: every one, or with `bucketSeconds` the last of each bucket of that
    /// many seconds (a month at one point an hour). Samples in another currency than `currency` are left out: the
    /// account's currency was changed, and the two cannot be drawn on one axis.
    public func samples(since: Date, bucketSeconds: Int?, currency: String) async throws -> [EquitySample] {
        try await database.read { db in
            let rows: [Row]
            if let bucket = bucketSeconds, bucket > 1 {
                // SQLite's bare column with MAX() takes the row of the latest time in each bucket.
                rows = try Row.fetchAll(db, sql: """
                    SELECT MAX(time) AS time, equity, complete FROM equity_samples
                    WHERE time >= ? AND currency = ?
                    GROUP BY CAST(strftime('%s', time) AS INTEGER) / ?
                    ORDER BY time
                    """, arguments: [since, currency, bucket])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT time, equity, complete FROM equity_samples WHERE time >= ? AND currency = ? ORDER BY time",
                                        arguments: [since, currency])
            }
            return try rows.map { row in
                let text: String = row["equity"]
                guard let equity = ExactDecimal(text) else { throw DatabaseError(message: "equity_samples holds '\(text.prefix(40))', not a decimal") }
                return EquitySample(time: row["time"], equity: equity, complete: row["complete"])
            }
        }
    }

    /// Samples the account until cancelled. A failed reading (routerd still reconciling, the disk full) is logged
    /// and the next one tried on schedule: a curve with a gap, never a made-up point.
    public func run(every interval: Duration, account: @Sendable () async throws -> AccountSummary, logger: Logger) async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await record(try await account(), at: Date())
                if failing { logger.notice("equity sampling works again") }
                failing = false
            } catch {
                if !failing { logger.warning("could not sample the account's equity; trying again", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
