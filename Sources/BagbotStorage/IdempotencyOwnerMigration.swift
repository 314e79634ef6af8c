import GRDB

/// `v7-gateway-idempotency-by-owner`: an `Idempotency-Key` of `POST /api/orders` belongs to the token's owner, not
/// the token, so a rotated token (or a second token of the owner) retrying with the key finds the same row and the
/// same order at arsenald instead of placing a second one.
///
/// `idempotency_keys` is rebuilt keyed by (owner, key). Each row also keeps `arsenal_key`, the key arsenald got for
/// it: new rows derive it from the owner; rows carried over from v6 (keyed by token) leave it NULL, and the gateway
/// derives it from their `token_id` the way v6 did, so a carried-over request that is taken over or retried names the
/// same order as before. Two v6 rows of one owner under one key (two tokens) cannot both be kept; the older one
/// is, and the other token's order stays visible in `GET /api/orders`.
///
/// A v6 key given up without a final answer (arsenald timed out) left no row, yet its order may exist under the
/// token-derived arsenald key: `idempotency_legacy_tokens` lists the tokens that existed now, with `until` (the
/// retention, 7 days, from now), and until then the gateway first asks routerd whether such an order exists.
enum IdempotencyOwnerMigration {
    static func run(_ db: Database) throws {
        try db.create(table: "idempotency_keys_by_owner") { t in
            t.column("owner", .text).notNull()
            t.column("key", .text).notNull()
            // The token that claimed the key (a v6 row's arsenald key is derived from it when `arsenal_key` is NULL).
            t.column("token_id", .text).notNull()
            t.column("arsenal_key", .text)
            t.column("request_hash", .text).notNull()
            t.column("state", .text).notNull().check { ["running", "done"].contains($0) }
            t.column("run_id", .text).notNull()
            t.column("status", .integer)
            t.column("response", .blob)
            t.column("created_at", .datetime).notNull()
            t.column("claimed_at", .datetime).notNull()
            t.column("completed_at", .datetime)
            t.primaryKey(["owner", "key"])
        }
        try db.execute(sql: """
            INSERT OR IGNORE INTO idempotency_keys_by_owner
                (owner, key, token_id, arsenal_key, request_hash, state, run_id, status, response, created_at, claimed_at, completed_at)
            SELECT t.owner, i.key, i.token_id, NULL, i.request_hash, i.state, i.run_id, i.status, i.response, i.created_at, i.claimed_at,
                   i.completed_at
            FROM idempotency_keys i JOIN api_tokens t ON t.id = i.token_id
            ORDER BY i.created_at, i.token_id
            """)
        try db.drop(table: "idempotency_keys")
        try db.rename(table: "idempotency_keys_by_owner", to: "idempotency_keys")
        try db.create(index: "idempotency_keys_by_created", on: "idempotency_keys", columns: ["created_at"])

        try db.create(table: "idempotency_legacy_tokens") { t in
            t.column("token_id", .text).primaryKey()
            t.column("owner", .text).notNull()
            t.column("until", .datetime).notNull()
        }
        // GRDB's date text (`YYYY-MM-DD HH:MM:SS.SSS`, UTC), so it compares with the dates the gateway binds.
        try db.execute(sql: """
            INSERT INTO idempotency_legacy_tokens (token_id, owner, until)
            SELECT id, owner, strftime('%Y-%m-%d %H:%M:%f', 'now', '+7 days') FROM api_tokens
            """)
    }
}
