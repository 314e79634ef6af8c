import Foundation
import Synchronization
import GRDB
import Logging
import BagbotRuntime

public enum TokenRole: String, Codable, Sendable, CaseIterable {
    case user, admin
}

/// A token's public facts, as listed to admins and shown to its owner; never the secret.
public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var prefix: String
    public var owner: String
    public var role: TokenRole
    public var tier: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    public var rotatedTo: String?

    /// Whether the token is refused at `now`, and why. Stored times are whole milliseconds, read back as the Double
    /// nearest each, which may lie a fraction of a microsecond after it: compared as whole milliseconds with `now`'s
    /// (rounded down), a revocation stored at now's millisecond is in force at now, never "after" it by the last bit.
    func state(at now: Date) -> TokenState {
        let now = Self.milliseconds(now, rounding: .down)
        if let revokedAt, Self.milliseconds(revokedAt, rounding: .toNearestOrAwayFromZero) <= now { return .revoked }
        if let expiresAt, Self.milliseconds(expiresAt, rounding: .toNearestOrAwayFromZero) <= now { return .expired }
        if revokedAt != nil { return .inGracePeriod }
        return .active
    }

    private static func milliseconds(_ date: Date, rounding: FloatingPointRoundingRule) -> Double {
        (date.timeIntervalSince1970 * 1_000).rounded(rounding)
    }
}

enum TokenState: String, Codable {
    case active, inGracePeriod = "grace_period", revoked, expired
}

public enum SubscriptionStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended
}

/// An owner's subscription: the tier all their tokens share, whether it is active, and its limit overrides.
public struct Subscription: Codable, Sendable, Equatable {
    public var owner: String
    public var tier: Tier
    public var status: SubscriptionStatus
    public var overrides: LimitOverrides?
}

/// Why a presented token was not accepted; each becomes a 401 with its own code.
public enum TokenRejection: Error, Equatable {
    case malformed, badChecksum, legacyRefused, unknown, expired, revoked
}

/// A token that authenticated, with its owner's subscription (nil when the owner has none: the token's own tier
/// applies, as for the first admin token).
public struct AuthenticatedToken: Sendable {
    public var token: APIToken
    public var subscription: Subscription?
    /// Set when the stored subscription cannot be read (a tier or status this build does not know).
    public var subscriptionProblem: String?
}

/// A refusal of an admin or subscription operation on tokens, mapped to 404 or 409 by the routes.
enum TokenStoreError: Error, Equatable {
    case notFound(String)
    case conflict(code: String, message: String)
}

/// gateway's `api_tokens` and `subscriptions` tables. Tokens are looked up by the SHA-256 of what the client sent
/// and the stored hash is compared in constant time; the token itself is never stored.
///
/// The rows of tokens presented lately are kept in memory for up to a second (`recent`), so a client's calls do not each
/// read the database: every change this store makes empties it before the change is answered (and a read that began
/// before a change is not kept: `generation`), so a revoked or rotated token stops at once. The one change made
/// elsewhere, `last_used_at` (written in batches by `UsageRecorder`), is at most a second behind in what is shown.
public final class TokenStore: Sendable {
    let database: DatabasePool
    let acceptLegacyTokens: Bool

    private struct RecentRows {
        var rows: [String: (record: APITokenRecord, subscription: SubscriptionRecord?, at: ContinuousClock.Instant)] = [:]
        var generation = 0
    }

    private let recent = Mutex(RecentRows())
    static let recentLifetime = Duration.seconds(1)
    static let recentCapacity = 10_000

    /// The longest grace period a rotation may keep the old token working.
    static let maximumGraceSeconds = 7 * 86_400

    public init(database: DatabasePool, acceptLegacyTokens: Bool = true) {
        self.database = database
        self.acceptLegacyTokens = acceptLegacyTokens
    }

    /// Stores a token whose secret the caller made (the first admin token, tests).
    @discardableResult
    public func insert(token: String, owner: String, role: TokenRole, tier: String, expiresAt: Date? = nil, now: Date = Date()) async throws -> APIToken {
        let record = try Self.record(for: token, owner: owner, role: role, tier: tier, expiresAt: expiresAt, now: now)
        try await write { db in try record.insert(db) }
        return record.token
    }

    static func record(for token: String, owner: String, role: TokenRole, tier: String, expiresAt: Date?, now: Date) throws -> APITokenRecord {
        APITokenRecord(
            id: Crypto.hex(try Crypto.randomBytes(8)), prefix: APITokenFormat.displayPrefix(token), hash: APITokenFormat.hash(token),
            owner: owner, role: role, tier: tier, createdAt: now, expiresAt: expiresAt)
    }

    /// Makes a new token for `owner`, creating the owner's subscription if they have none: on `tier`, else on the tier
    /// of the owner's tokens (the first admin's), else Free. The returned secret is the only copy: it is shown once and
    /// never stored.
    func create(owner: String, role: TokenRole, tier: Tier?, expiresAt: Date?, now: Date) async throws -> (secret: String, token: APIToken) {
        let secret = try APITokenFormat.generate()
        let token: APIToken = try await write { db in
            let existing = try SubscriptionRecord.fetchOne(db, key: owner)
            let effectiveTier: String
            if let existing {
                if let tier, tier.rawValue != existing.tier {
                    throw TokenStoreError.conflict(
                        code: "tier_conflict",
                        message: "\(owner) is on the \(existing.tier) tier; change it with PUT /api/admin/subscriptions/\(owner), or leave tier out")
                }
                effectiveTier = existing.tier
            } else {
                // An owner with tokens but no subscription (the first admin, stored at bootstrap) is on its newest token's
                // tier: the subscription a new token creates keeps it there, or it would move every token of the owner.
                // A tier that is no longer one of `Tier`'s is not kept: the owner starts on `tier` (or Free) instead.
                let held = try String.fetchOne(db, sql: """
                    SELECT tier FROM api_tokens WHERE owner = ? AND (revoked_at IS NULL OR revoked_at > ?)
                    AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC LIMIT 1
                    """, arguments: [owner, now, now]).flatMap(Tier.init(rawValue:))?.rawValue
                if let held, let tier, tier.rawValue != held {
                    throw TokenStoreError.conflict(
                        code: "tier_conflict",
                        message: "\(owner)'s tokens are on the \(held) tier; change it with PUT /api/admin/subscriptions/\(owner), or leave tier out")
                }
                effectiveTier = tier?.rawValue ?? held ?? Tier.free.rawValue
                try SubscriptionRecord(owner: owner, tier: effectiveTier, status: SubscriptionStatus.active.rawValue,
                                       periodStart: now, periodEnd: nil, limitOverrides: nil).insert(db)
            }
            let record = try Self.record(for: secret, owner: owner, role: role, tier: effectiveTier, expiresAt: expiresAt, now: now)
            try record.insert(db)
            return record.token
        }
        return (secret, token)
    }

    public func authenticate(_ presented: String, now: Date = Date()) async throws -> Result<AuthenticatedToken, TokenRejection> {
        switch APITokenFormat.classify(presented) {
        case .failure(.malformed): return .failure(.malformed)
        case .failure(.badChecksum): return .failure(.badChecksum)
        case .success(.legacy) where !acceptLegacyTokens: return .failure(.legacyRefused)
        case .success: break
        }
        let digest = APITokenFormat.hash(presented)
        let found = try await rows(digest)
        guard let (record, subscriptionRecord) = found,
              Crypto.constantTimeEqual(Array(record.hash.utf8), Array(digest.utf8))
        else { return .failure(.unknown) }
        switch record.token.state(at: now) {
        case .revoked: return .failure(.revoked)
        case .expired: return .failure(.expired)
        case .active, .inGracePeriod: break
        }
        var authenticated = AuthenticatedToken(token: record.token)
        if let subscriptionRecord {
            switch Self.subscription(from: subscriptionRecord) {
            case .success(let subscription): authenticated.subscription = subscription
            case .failure(let problem): authenticated.subscriptionProblem = problem.message
            }
        }
        return .success(authenticated)
    }

    /// A token's row and its owner's subscription, from `recent` when read less than `recentLifetime` ago.
    private func rows(_ digest: String) async throws -> (APITokenRecord, SubscriptionRecord?)? {
        let now = ContinuousClock.now
        let (kept, generation) = recent.withLock { recent in
            (recent.rows[digest].flatMap { now - $0.at < Self.recentLifetime ? ($0.record, $0.subscription) : nil }, recent.generation)
        }
        if let kept { return kept }
        let found = try await database.read { db -> (APITokenRecord, SubscriptionRecord?)? in
            guard let record = try APITokenRecord.filter(APITokenRecord.Columns.hash == digest).fetchOne(db) else { return nil }
            return (record, try SubscriptionRecord.fetchOne(db, key: record.owner))
        }
        if let (record, subscription) = found {
            recent.withLock { recent in
                // Read before a change this store made since: not kept, or a revoked token could outlive its revocation.
                guard recent.generation == generation else { return }
                if recent.rows.count >= Self.recentCapacity { recent.rows.removeAll() }
                recent.rows[digest] = (record, subscription, now)
            }
        }
        return found
    }

    /// Every change to tokens and subscriptions: the rows kept in memory go before the change is answered.
    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        defer { recent.withLock { $0.rows.removeAll(); $0.generation += 1 } }
        return try await database.write(updates)
    }

    struct StoredValueProblem: Error { let message: String }

    static func subscription(from record: SubscriptionRecord) -> Result<Subscription, StoredValueProblem> {
        guard let tier = Tier(rawValue: record.tier) else {
            return .failure(.init(message: "the subscription of \(record.owner) names an unknown tier '\(record.tier)'"))
        }
        guard let status = SubscriptionStatus(rawValue: record.status) else {
            return .failure(.init(message: "the subscription of \(record.owner) has an unknown status '\(record.status)'"))
        }
        var overrides: LimitOverrides?
        if let json = record.limitOverrides {
            guard let decoded = try? JSONDecoder().decode(LimitOverrides.self, from: Data(json.utf8)) else {
                return .failure(.init(message: "the subscription of \(record.owner) has unreadable limit overrides"))
            }
            overrides = decoded
        }
        return .success(Subscription(owner: record.owner, tier: tier, status: status, overrides: overrides))
    }

    public func list(owner: String? = nil) async throws -> [APIToken] {
        try await database.read { db in
            var request = APITokenRecord.order(APITokenRecord.Columns.createdAt, APITokenRecord.Columns.id)
            if let owner { request = request.filter(APITokenRecord.Columns.owner == owner) }
            return try request.fetchAll(db).map(\.token)
        }
    }

    /// `date` down to its millisecond: times are stored to the nearest millisecond, so a revocation at `now` could
    /// otherwise be stored up to half a millisecond later, and a request in that half millisecond would still pass.
    static func stored(notAfter date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1_000).rounded(.down) / 1_000)
    }

    /// Revokes `id` at `now` (or keeps an earlier revocation); a token in its grace period stops working now.
    /// The last working admin token cannot be revoked (409 `last_admin_token`): that would leave no way to manage
    /// the install short of editing the database.
    func revoke(id: String, now: Date) async throws -> APIToken {
        try await write { db in
            guard var record = try APITokenRecord.fetchOne(db, key: id) else { throw TokenStoreError.notFound("no token \(id)") }
            if record.role == .admin, record.token.state(at: now) != .revoked, record.token.state(at: now) != .expired,
               try Self.workingAdminTokens(db, now: now, excluding: id, lasting: true) == 0 {
                throw TokenStoreError.conflict(code: "last_admin_token",
                                               message: "token \(id) is the last working admin token; create another admin token first")
            }
            if record.revokedAt.map({ $0 > now }) ?? true {
                record.revokedAt = Self.stored(notAfter: now)
                try record.update(db)
            }
            return record.token
        }
    }

    /// Replaces the token `id` with a new one for the same owner, role, tier and expiry. The old token keeps working
    /// for `graceSeconds` (0: it stops now). A token already rotated, revoked or expired cannot be rotated again, so a
    /// leaked token in its grace period cannot mint a successor.
    func rotate(id: String, graceSeconds: Int, now: Date) async throws -> (secret: String, token: APIToken, old: APIToken) {
        let secret = try APITokenFormat.generate()
        return try await write { db in
            guard var old = try APITokenRecord.fetchOne(db, key: id) else { throw TokenStoreError.notFound("no token \(id)") }
            if let successor = old.rotatedTo {
                throw TokenStoreError.conflict(code: "token_already_rotated", message: "token \(id) was already rotated to \(successor)")
            }
            switch old.token.state(at: now) {
            case .revoked, .inGracePeriod: throw TokenStoreError.conflict(code: "token_revoked", message: "token \(id) is revoked")
            case .expired: throw TokenStoreError.conflict(code: "token_expired", message: "token \(id) has expired")
            case .active: break
            }
            let new = try Self.record(for: secret, owner: old.owner, role: old.role, tier: old.tier, expiresAt: old.expiresAt, now: now)
            try new.insert(db)
            old.revokedAt = Self.stored(notAfter: now.addingTimeInterval(TimeInterval(graceSeconds)))
            old.rotatedTo = new.id
            try old.update(db)
            return (secret, new.token, old.token)
        }
    }

    public func subscription(owner: String) async throws -> Subscription? {
        let record = try await database.read { db in try SubscriptionRecord.fetchOne(db, key: owner) }
        guard let record else { return nil }
        switch Self.subscription(from: record) {
        case .success(let subscription): return subscription
        case .failure(let problem): throw problem
        }
    }

    /// Creates or replaces `owner`'s subscription; their tokens' tier column follows, so listings stay true.
    /// Returns whether the subscription was created.
    func putSubscription(_ subscription: Subscription, now: Date) async throws -> Bool {
        let overridesJSON: String? = try subscription.overrides.flatMap { overrides in
            overrides.isEmpty ? nil : String(decoding: try JSONEncoder().encode(overrides), as: UTF8.self)
        }
        return try await write { db in
            let existing = try SubscriptionRecord.fetchOne(db, key: subscription.owner)
            let record = SubscriptionRecord(owner: subscription.owner, tier: subscription.tier.rawValue, status: subscription.status.rawValue,
                                            periodStart: existing?.periodStart ?? now, periodEnd: existing?.periodEnd,
                                            limitOverrides: overridesJSON)
            try record.save(db)
            try db.execute(sql: "UPDATE api_tokens SET tier = ? WHERE owner = ?", arguments: [subscription.tier.rawValue, subscription.owner])
            return existing == nil
        }
    }

    public func hasAdminToken(now: Date = Date()) async throws -> Bool {
        try await database.read { db in try Self.workingAdminTokens(db, now: now, excluding: nil, lasting: false) > 0 }
    }

    /// Admin tokens that work at `now`; with `lasting`, only those with no revocation scheduled (a rotated token
    /// in its grace period will stop on its own, so it does not count).
    static func workingAdminTokens(_ db: Database, now: Date, excluding id: String?, lasting: Bool) throws -> Int {
        var request = APITokenRecord
            .filter(APITokenRecord.Columns.role == TokenRole.admin.rawValue)
            .filter(lasting ? APITokenRecord.Columns.revokedAt == nil : (APITokenRecord.Columns.revokedAt == nil || APITokenRecord.Columns.revokedAt > now))
            .filter(APITokenRecord.Columns.expiresAt == nil || APITokenRecord.Columns.expiresAt > now)
        if let id { request = request.filter(APITokenRecord.Columns.id != id) }
        return try request.fetchCount(db)
    }

    /// What `bootstrapAdmin` found in its file.
    public enum BootstrapOutcome: Equatable, Sendable {
        /// The file's token is now stored, as its hash (given).
        case stored(hash: String)
        /// The file's token was stored as an admin token before (at an earlier start), whatever its state now.
        case alreadyStored(hash: String)
        /// No file, or an empty one (its token erased once stored).
        case noToken
        /// The file's token is not an admin token in `api_tokens` (an admin token exists already, or it is stored
        /// under another role), or the file cannot be read while an admin exists: its plaintext is worth keeping
        /// until the operator looks.
        case notStored

        /// The hash of the file's token when it is in `api_tokens`: only then may its plaintext be erased.
        public var storedHash: String? {
            switch self {
            case .stored(let hash), .alreadyStored(let hash): hash
            case .noToken, .notStored: nil
            }
        }
    }

    /// Stores the first admin token from a file (`bagbot up`) or a systemd credential, once: only while
    /// no admin token exists, so a later edit of the file cannot grant a second admin.
    @discardableResult
    public func bootstrapAdmin(fromFile path: String, logger: Logger) async throws -> BootstrapOutcome {
        guard FileManager.default.fileExists(atPath: path) else {
            logger.warning("bootstrap admin token file not found", metadata: ["file": "\(path)"])
            return .noToken
        }
        let token: String
        do {
            token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            // Unreadable (permissions, not UTF-8): fatal only while it is the one way in.
            guard try await hasAdminToken() else { throw error }
            logger.warning("bootstrap admin token file cannot be read; an admin token exists already, so it is not needed", metadata: [
                "file": "\(path)", "error": "\(error)",
            ])
            return .notStored
        }
        // Emptied once its token was stored (`bagbot up`, the systemd unit's ExecStartPost=): nothing to bootstrap.
        guard !token.isEmpty else {
            logger.warning("bootstrap admin token file is empty: its token was erased after being stored", metadata: ["file": "\(path)"])
            return .noToken
        }
        let hash = APITokenFormat.hash(token)
        // Stored as an admin token at an earlier start (and perhaps revoked since: never made to work again from the
        // file). Any other token with that hash is not the file's admin token: its plaintext stays.
        if let (record, _) = try await rows(hash) {
            guard record.role == .admin else {
                logger.warning("bootstrap admin token file holds a token stored as another role's; it is not an admin token", metadata: [
                    "file": "\(path)", "token_prefix": "\(record.prefix)", "role": "\(record.role.rawValue)",
                ])
                return .notStored
            }
            let state = record.token.state(at: Date())
            if state == .revoked || state == .expired {
                logger.warning("bootstrap admin token file holds an admin token that no longer works; it is not stored again", metadata: [
                    "file": "\(path)", "token_prefix": "\(record.prefix)", "state": "\(state.rawValue)",
                ])
            }
            return .alreadyStored(hash: hash)
        }
        guard try await !hasAdminToken() else {
            logger.warning("bootstrap admin token file holds a token that was not stored: an admin token exists already", metadata: ["file": "\(path)"])
            return .notStored
        }
        switch APITokenFormat.classify(token) {
        case .failure(.malformed):
            throw ConfigError(file: path, key: "", reason: "not a BAGBOT token (expected bgb_ followed by 49 base64url characters, as `bagbot token` prints)")
        case .failure(.badChecksum):
            throw ConfigError(file: path, key: "", reason: "the token's checksum does not match: the file holds a mistyped or truncated token")
        case .success(.legacy) where !acceptLegacyTokens:
            throw ConfigError(file: path, key: "", reason: "a token without checksum (made before the checksum existed) while gateway.accept_legacy_tokens is false")
        case .success:
            break
        }
        let record = try await insert(token: token, owner: "admin", role: .admin, tier: Tier.enterprise.rawValue)
        logger.notice("first admin token stored", metadata: ["token_prefix": "\(record.prefix)"])
        return .stored(hash: hash)
    }
}
