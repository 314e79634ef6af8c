import Foundation
import BagbotStorage
import GRDB

/// One row of `api_tokens`: the token's public facts and the SHA-256 of its secret (the secret itself is
/// never stored). Written by the gateway only.
struct APITokenRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "api_tokens"

    enum Columns {
        static let id = Column("id")
        static let hash = Column("hash")
        static let owner = Column("owner")
        static let role = Column("role")
        static let createdAt = Column("created_at")
        static let expiresAt = Column("expires_at")
        static let revokedAt = Column("revoked_at")
        static let lastUsedAt = Column("last_used_at")
    }

    var id: String
    var prefix: String
    var hash: String
    var owner: String
    var role: TokenRole
    var tier: String
    var createdAt: Date
    var expiresAt: Date?
    /// When the token stops working: set by revocation (now) or by rotation (the end of the grace period, which
    /// may be in the future).
    var revokedAt: Date?
    var lastUsedAt: Date?
    /// The token that replaced this one by rotation.
    var rotatedTo: String?

    var token: APIToken {
        APIToken(id: id, prefix: prefix, owner: owner, role: role, tier: tier, createdAt: createdAt,
                 expiresAt: expiresAt, revokedAt: revokedAt, lastUsedAt: lastUsedAt, rotatedTo: rotatedTo)
    }
}

/// One row of `subscriptions`: an owner's tier, status and limit overrides. Written by the gateway only.
struct SubscriptionRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "subscriptions"

    var owner: String
    var tier: String
    var status: String
    var periodStart: Date?
    var periodEnd: Date?
    /// `LimitOverrides` as JSON, or nil.
    var limitOverrides: String?
}
