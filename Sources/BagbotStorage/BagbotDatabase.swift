#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB

/// `bagbot.db`: one SQLite file in WAL mode shared by the daemons, each table written by one daemon only
/// (tokens, subscriptions and usage by gateway; orders, fills and the paper book by routerd).
public enum BagbotDatabase {
    public static func open(path: String) throws -> DatabasePool {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        // Two daemons may write at once (different tables); wait for the lock rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Two daemons opening a new file at once collide twice: both switch it to WAL (refused as
        // "database is locked", which the busy timeout does not cover), and the migrator reads which
        // migrations are applied before its own transactions, so both create the tables. An exclusive lock
        // beside the file makes opening and migrating one step across processes.
        return try withExclusiveLock(path + ".open-lock") {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL mode on, after
            // `prepareDatabase`: every write is durable unless a caller says otherwise (`commit(durable:)`).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try migrator.migrate(pool)
            return pool
        }
    }

    static func withExclusiveLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SystemCallError("open \(lockPath)") }
        defer { Glibc.close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemCallError("flock \(lockPath)") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Every table, in order. Migrations are append-only: a released one is never edited.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-gateway") { db in
            try db.create(table: "api_tokens") { t in
                t.column("id", .text).primaryKey()
                t.column("prefix", .text).notNull()
                t.column("hash", .text).notNull().unique()
                t.column("owner", .text).notNull()
                t.column("role", .text).notNull().check { ["user", "admin"].contains($0) }
                t.column("tier", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime)
                t.column("revoked_at", .datetime)
                t.column("last_used_at", .datetime)
            }
            try db.create(table: "subscriptions") { t in
                t.column("owner", .text).primaryKey()
                t.column("tier", .text).notNull()
                t.column("status", .text).notNull()
                t.column("period_start", .datetime)
                t.column("period_end", .datetime)
                t.column("limit_overrides", .text)
            }
            try db.create(table: "usage_logs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("token_id", .text)
                t.column("method", .text).notNull()
                t.column("route", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("latency_ms", .double).notNull()
                t.column("time", .datetime).notNull()
            }
            try db.create(index: "usage_logs_by_token_time", on: "usage_logs", columns: ["token_id", "time"])
        }
        migrator.registerMigration("v1-router") { db in
            try db.create(table: "orders") { t in
                t.column("client_order_id", .text).primaryKey()
                t.column("venue", .text).notNull()
                t.column("symbol", .text).notNull()
                t.column("side", .text).notNull()
                t.column("type", .text).notNull()
                t.column("quantity", .double).notNull()
                t.column("limit_price", .double)
                t.column("status", .text).notNull()
                t.column("filled_quantity", .double).notNull()
                t.column("average_fill_price", .double)
                t.column("exchange_order_id", .text)
                t.column("strategy_id", .text)
                t.column("request_id", .text)
                t.column("reject_reason", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "orders_by_status", on: "orders", columns: ["status"])
            try db.create(index: "orders_by_created", on: "orders", columns: ["created_at"])
            try db.create(table: "order_events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("client_order_id", .text).notNull().references("orders", onDelete: .cascade)
                t.column("status", .text).notNull()
                t.column("reason", .text)
                t.column("time", .datetime).notNull()
            }
            try db.create(index: "order_events_by_order", on: "order_events", columns: ["client_order_id"])
            try db.create(table: "fills") { t in
                t.column("fill_id", .text).primaryKey()
                t.column("client_order_id", .text).notNull().references("orders")
                t.column("venue", .text).notNull()
                t.column("symbol", .text).notNull()
                t.column("side", .text).notNull()
                t.column("quantity", .double).notNull()
                t.column("price", .double).notNull()
                t.column("fee", .double).notNull()
                t.column("time", .datetime).notNull()
                t.column("strategy_id", .text)
                t.column("request_id", .text)
            }
            try db.create(index: "fills_by_order", on: "fills", columns: ["client_order_id"])
            try db.create(table: "paper_accounts") { t in
                t.column("currency", .text).primaryKey()
                t.column("cash", .double).notNull()
                t.column("fees_paid", .double).notNull()
            }
            try db.create(table: "paper_positions") { t in
                t.column("symbol", .text).primaryKey()
                t.column("quantity", .double).notNull()
                t.column("average_price", .double).notNull()
                t.column("realized_pnl", .double).notNull()
                t.column("last_price", .double)
            }
        }
        migrator.registerMigration("v2-exact-money") { db in
            try ExactMoneyMigration.run(db)
        }
        migrator.registerMigration("v3-order-lifecycle") { db in
            try OrderLifecycleMigration.run(db)
        }
        migrator.registerMigration("v4-paper-balances") { db in
            try PaperBalancesMigration.run(db)
        }
        // Token rotation (the successor's id; the old token's `revoked_at` is then the end of its grace period,
        // possibly in the future) and the owner look-ups of `/api/subscription` and the rate limiter.
        migrator.registerMigration("v5-gateway-rotation") { db in
            try db.alter(table: "api_tokens") { t in
                t.add(column: "rotated_to", .text)
            }
            try db.create(index: "api_tokens_by_owner", on: "api_tokens", columns: ["owner"])
        }
        // `POST /api/orders` with an `Idempotency-Key`: one row per token and key, claimed before the order goes to
        // arsenald (`running`, with the gateway run that claimed it) and holding the answer once it is final.
        migrator.registerMigration("v6-gateway-idempotency") { db in
            try db.create(table: "idempotency_keys") { t in
                t.column("token_id", .text).notNull()
                t.column("key", .text).notNull()
                t.column("request_hash", .text).notNull()
                t.column("state", .text).notNull().check { ["running", "done"].contains($0) }
                t.column("run_id", .text).notNull()
                t.column("status", .integer)
                t.column("response", .blob)
                t.column("created_at", .datetime).notNull()
                t.column("claimed_at", .datetime).notNull()
                t.column("completed_at", .datetime)
                t.primaryKey(["token_id", "key"])
            }
            try db.create(index: "idempotency_keys_by_created", on: "idempotency_keys", columns: ["created_at"])
        }
        // Keys belong to the token's owner, not the token (a rotation must not make a retry a second order).
        migrator.registerMigration("v7-gateway-idempotency-by-owner") { db in
            try IdempotencyOwnerMigration.run(db)
        }
        // Who placed each manual order through the API, so a non-admin token cancels only its owner's orders.
        migrator.registerMigration("v8-gateway-manual-order-owners") { db in
            try db.create(table: "manual_order_owners") { t in
                t.column("client_order_id", .text).primaryKey()
                t.column("owner", .text).notNull()
                t.column("token_id", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "manual_order_owners_by_owner", on: "manual_order_owners", columns: ["owner"])
        }
        // The part of a fill's fee taken in the base asset (`Fill.baseCommission`): positions move by what was really
        // received. Earlier fills had none (the paper venue charges the quote asset).
        migrator.registerMigration("v9-router-base-commission") { db in
            try db.alter(table: "fills") { t in
                t.add(column: "base_commission", .text)
            }
        }
        // The account's equity, sampled by routerd for the dashboard's equity curves (`EquityHistory`).
        migrator.registerMigration("v10-router-equity-samples") { db in
            try db.create(table: "equity_samples") { t in
                t.primaryKey("time", .datetime)
                t.column("currency", .text).notNull()
                t.column("equity", .text).notNull()
                t.column("complete", .boolean).notNull()
            }
        }
        // Fewer pages written per order: the same rows in tables that touch fewer B-trees (OrderPathPagesMigration).
        migrator.registerMigration("v11-router-order-path-pages") { db in
            try OrderPathPagesMigration.run(db)
        }
        // Each start of routerd, synced: it writes over what a failed commit may have left in the log (`CommitFailed`).
        migrator.registerMigration("v12-router-starts") { db in
            try db.create(table: "router_starts") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
            }
        }
        // A limit order's time in force (IOC, FOK, post-only; NULL: GTC, or a market order), beside its type: a routerd
        // of before it reads every order as the limit order it is.
        migrator.registerMigration("v13-router-time-in-force") { db in
            try db.alter(table: "orders") { t in t.add(column: "time_in_force", .text) }
        }
        return migrator
    }
}
