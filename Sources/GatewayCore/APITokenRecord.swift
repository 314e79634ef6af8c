import Foundation
import BagbotStorage
import GRDB

/// One row of `api_tokens`: the token's public facts and the SHA-256 of its secret (the secret itself is
/// never stored). Written by the gateway only.
struct APITokenRecord: Codable, SnakeCaseRecord {
    static let databaseTableName = "api_tokens"

    enum Columns {
        static let hash = Column("hash")
        static let role = Column("role")
        static let expiresAt = Column("expires_at")
        static let revokedAt = Column("revoked_at")
    }

    var id: String
    var prefix: String
    var hash: String
    var owner: String
    var role: TokenRole
    var tier: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
    var lastUsedAt: Date?

    var token: APIToken {
        APIToken(id: id, prefix: prefix, owner: owner, role: role, tier: tier, createdAt: createdAt,
                 expiresAt: expiresAt, revokedAt: revokedAt)
    }
}
