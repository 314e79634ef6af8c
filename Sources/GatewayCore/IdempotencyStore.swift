import Foundation
import GRDB
import BagbotRuntime

/// What claiming an `Idempotency-Key` found.
enum IdempotencyClaim: Equatable, Sendable {
    /// The key is this request's now (new, released, or left `running` by a request that can no longer answer): go
    /// ahead, with `arsenalKey` as the key arsenald gets. `isNew`: no row existed (the key was never used, or was
    /// forgotten after the retention). `claimedAt`: this claim's time, which its `complete` and `release` name, so that
    /// a request whose claim was taken over cannot store or give up the claim of the one that took it.
    case claimed(arsenalKey: String, isNew: Bool, claimedAt: Date)
    /// The first request with this key has its final answer: send it again, do nothing else.
    case replay(status: Int, body: Data)
    /// The first request with this key is still running in this gateway: 409, never a second order.
    case inProgress
    /// The key was used with a different request: 422.
    case mismatch
}

/// `idempotency_keys`: one row per owner and `Idempotency-Key` of `POST /api/orders` (per owner, not per token: a
/// rotated token or another token of the owner retrying with the key is the same client). A request claims its key
/// in one write transaction before anything is sent (so of two concurrent requests with one key, exactly one goes
/// on), and stores its answer once that answer is final. A claim given up without a final answer (a 504, arsenald
/// down) keeps its row, held by no run (`run_id` empty): its fingerprint still refuses the key for another request,
/// which the order it may have placed would otherwise answer. The row is not the only guard against a second order:
/// the key also names the order at arsenald (`arsenal_key`), whose own idempotency returns the order it already
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

    /// The idempotency key arsenald gets for (`owner`, `key`): 1–31 of `A-Z a-z 0-9 _ -` as it requires, the same for
    /// every retry, every token of the owner and every gateway run, and different for two owners that chose the same
    /// key (arsenald's keys are global: its order is `bb-m-<key>`).
    static func arsenalKey(owner: String, key: String) -> String {
        "g" + String(Crypto.hex(Crypto.sha256("bagbot-gateway-idempotency-owner\n\(owner)\n\(key)")).prefix(30))
    }

    /// The key an earlier gateway gave arsenald, derived from the token (`v6` rows, and keys given up before the
    /// upgrade). Another label than `arsenalKey(owner:)`, so an owner named like a token id cannot collide with it.
    static func legacyArsenalKey(tokenId: String, key: String) -> String {
        "g" + String(Crypto.hex(Crypto.sha256("bagbot-gateway-idempotency\n\(tokenId)\n\(key)")).prefix(30))
    }

    /// The request's fingerprint: a different body under the same key is refused, not answered with the first.
    static func fingerprint(_ canonical: String) -> String {
        Crypto.hex(Crypto.sha256(canonical))
    }

    /// `legacyHash`: the same request's fingerprint as an earlier gateway computed it, accepted on a stored row too.
    func claim(owner: String, key: String, tokenId: String, requestHash: String, legacyHash: String? = nil,
               now: Date) async throws -> IdempotencyClaim {
        try await database.write { [runId, retention, staleAfter] db in
            // Kept for the retention after its last use (its answer, or its last claim): a key released on day 0 and
            // used on day 6 keeps that answer to day 13, as its client expects.
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE COALESCE(completed_at, claimed_at) < ?",
                           arguments: [now.addingTimeInterval(-retention)])
            if let row = try Row.fetchOne(db, sql: """
                SELECT request_hash, state, run_id, claimed_at, status, response, token_id, arsenal_key FROM idempotency_keys
                WHERE owner = ? AND key = ?
                """, arguments: [owner, key]) {
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
                try db.execute(sql: "UPDATE idempotency_keys SET run_id = ?, claimed_at = ? WHERE owner = ? AND key = ?",
                               arguments: [runId, now, owner, key])
                let stored: String? = row["arsenal_key"]
                let claimer: String = row["token_id"]
                return .claimed(arsenalKey: stored ?? Self.legacyArsenalKey(tokenId: claimer, key: key), isNew: false, claimedAt: now)
            }
            let arsenalKey = Self.arsenalKey(owner: owner, key: key)
            try db.execute(sql: """
                INSERT INTO idempotency_keys (owner, key, token_id, arsenal_key, request_hash, state, run_id, created_at, claimed_at)
                VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """, arguments: [owner, key, tokenId, arsenalKey, requestHash, runId, now, now])
            return .claimed(arsenalKey: arsenalKey, isNew: true, claimedAt: now)
        }
    }

    /// The arsenald keys an earlier gateway may have given this owner's key (one per token the owner had at the
    /// upgrade), while such an order can still be retried (`idempotency_legacy_tokens.until`); empty after.
    func legacyArsenalKeys(owner: String, key: String, now: Date) async throws -> [String] {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM idempotency_legacy_tokens WHERE until <= ?", arguments: [now])
            return try String.fetchAll(db, sql: "SELECT token_id FROM idempotency_legacy_tokens WHERE owner = ? ORDER BY token_id",
                                       arguments: [owner])
                .map { Self.legacyArsenalKey(tokenId: $0, key: key) }
        }
    }

    /// Records that this claim's order is the one an earlier gateway placed under `arsenalKey`.
    func adopt(owner: String, key: String, arsenalKey: String, claimedAt: Date) async throws {
        try await database.write { [runId] db in
            try db.execute(sql: """
                UPDATE idempotency_keys SET arsenal_key = ? WHERE owner = ? AND key = ? AND state = 'running' AND run_id = ? AND claimed_at = ?
                """, arguments: [arsenalKey, owner, key, runId, claimedAt])
        }
    }

    /// Stores the final answer of the claim made at `claimedAt`: every later request with the key gets it. False when
    /// that claim was taken over meanwhile (the request that took it stores its own answer about the same order).
    @discardableResult
    func complete(owner: String, key: String, claimedAt: Date, status: Int, body: Data, now: Date) async throws -> Bool {
        try await database.write { [runId] db in
            try db.execute(sql: """
                UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, completed_at = ?
                WHERE owner = ? AND key = ? AND state = 'running' AND run_id = ? AND claimed_at = ?
                """, arguments: [status, body, now, owner, key, runId, claimedAt])
            return db.changesCount > 0
        }
    }

    /// Forgets the key claimed anew at `claimedAt`: its first request certainly sent nothing (arsenald refused it, or
    /// it stopped before asking), so the key names no order and may carry another request. Not for a key that
    /// existed before this claim: an earlier request under it may have placed its order (`release`).
    func forget(owner: String, key: String, claimedAt: Date) async throws {
        try await database.write { [runId] db in
            try db.execute(sql: """
                DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND state = 'running' AND run_id = ? AND claimed_at = ?
                """, arguments: [owner, key, runId, claimedAt])
        }
    }

    /// Gives up the claim made at `claimedAt`: no final answer was reached (arsenald refused the request or could not
    /// be asked, or the order's outcome is not known yet), so a retry goes to arsenald again, under the same arsenald
    /// key. The row stays, held by no run, with its fingerprint: the key still names this request and no other.
    func release(owner: String, key: String, claimedAt: Date) async throws {
        try await database.write { [runId] db in
            try db.execute(sql: """
                UPDATE idempotency_keys SET run_id = '' WHERE owner = ? AND key = ? AND state = 'running' AND run_id = ? AND claimed_at = ?
                """, arguments: [owner, key, runId, claimedAt])
        }
    }
}
