import Foundation
import GRDB
import BagbotRuntime

/// What claiming an `Idempotency-Key` found.
enum IdempotencyClaim: Equatable, Sendable {
    /// The key is this request's now (new, or left `running` by a request that can no longer answer): go ahead.
    case claimed
    /// The first request with this key has its final answer: send it again, do nothing else.
    case replay(status: Int, body: Data)
    /// The first request with this key is still running in this gateway: 409, never a second order.
    case inProgress
    /// The key was used with a different request: 422.
    case mismatch
}

/// `idempotency_keys`: one row per token and `Idempotency-Key` of `POST /api/orders`. A request claims its key in
/// one write transaction before anything is sent (so of two concurrent requests with one key, exactly one goes
/// on), and stores its answer once that answer is final. The row is not the only guard against a second order:
/// the key also names the order at arsenald (`arsenalKey`), whose own idempotency returns the order it already
/// placed, so a claim taken over after a gateway crash cannot place a second one either.
final class IdempotencyStore: Sendable {
    let database: DatabasePool
    /// This gateway process: a `running` row of another run belongs to a request that died with its gateway.
    let runId: String
    /// How long a key and its answer are kept (at least the 24 h the API promises).
    let retention: TimeInterval
    /// A `running` row of this run older than this belongs to a request that did not finish (its answer could not
    /// be stored): taken over, since arsenald's key still guards the order. Well above the order call's timeout.
    let staleAfter: TimeInterval

    static let defaultRetention: TimeInterval = 7 * 86_400

    init(database: DatabasePool, runId: String? = nil, retention: TimeInterval = IdempotencyStore.defaultRetention,
         staleAfter: TimeInterval = 120) throws {
        self.database = database
        self.runId = try runId ?? Crypto.hex(Crypto.randomBytes(8))
        self.retention = retention
        self.staleAfter = staleAfter
    }

    /// The idempotency key arsenald gets for (`tokenId`, `key`): 1–31 of `A-Z a-z 0-9 _ -` as it requires, the
    /// same for every retry and every gateway run, and different for two tokens that chose the same key (arsenald's
    /// keys are global: its order is `bb-m-<key>`).
    static func arsenalKey(tokenId: String, key: String) -> String {
        "g" + String(Crypto.hex(Crypto.sha256("bagbot-gateway-idempotency\n\(tokenId)\n\(key)")).prefix(30))
    }

    /// The request's fingerprint: a different body under the same key is refused, not answered with the first.
    static func fingerprint(_ canonical: String) -> String {
        Crypto.hex(Crypto.sha256(canonical))
    }

    /// `legacyHash`: the same request's fingerprint as an earlier gateway computed it, accepted on a stored row too.
    func claim(tokenId: String, key: String, requestHash: String, legacyHash: String? = nil, now: Date) async throws -> IdempotencyClaim {
        try await database.write { [runId, retention, staleAfter] db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now.addingTimeInterval(-retention)])
            if let row = try Row.fetchOne(db, sql: """
                SELECT request_hash, state, run_id, claimed_at, status, response FROM idempotency_keys WHERE token_id = ? AND key = ?
                """, arguments: [tokenId, key]) {
                let storedHash: String = row["request_hash"]
                guard storedHash == requestHash || storedHash == legacyHash else { return .mismatch }
                let state: String = row["state"]
                if state == "done" {
                    let status: Int = row["status"]
                    let body: Data = row["response"]
                    return .replay(status: status, body: body)
                }
                let claimRun: String = row["run_id"]
                let claimedAt: Date = row["claimed_at"]
                if claimRun == runId, claimedAt > now.addingTimeInterval(-staleAfter) { return .inProgress }
                try db.execute(sql: "UPDATE idempotency_keys SET run_id = ?, claimed_at = ? WHERE token_id = ? AND key = ?",
                               arguments: [runId, now, tokenId, key])
                return .claimed
            }
            try db.execute(sql: """
                INSERT INTO idempotency_keys (token_id, key, request_hash, state, run_id, created_at, claimed_at)
                VALUES (?, ?, ?, 'running', ?, ?, ?)
                """, arguments: [tokenId, key, requestHash, runId, now, now])
            return .claimed
        }
    }

    /// Stores the final answer: every later request with the key gets it.
    func complete(tokenId: String, key: String, status: Int, body: Data, now: Date) async throws {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, completed_at = ? WHERE token_id = ? AND key = ?
                """, arguments: [status, body, now, tokenId, key])
        }
    }

    /// Gives the key up: no final answer was reached (arsenald refused the request or could not be asked, or the
    /// order's outcome is not known yet), so a retry goes to arsenald again, under the same arsenald key.
    func release(tokenId: String, key: String) async throws {
        try await database.write { [runId] db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND state = 'running' AND run_id = ?",
                           arguments: [tokenId, key, runId])
        }
    }
}
