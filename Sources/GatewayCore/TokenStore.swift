import Foundation
import GRDB
import Logging
import BagbotRuntime

public enum TokenRole: String, Codable, Sendable {
    case user, admin
}

public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var prefix: String
    public var owner: String
    public var role: TokenRole
    public var tier: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
}

/// Why a presented token was not accepted; each becomes a 401 with its own message.
public enum TokenRejection: Error, Equatable {
    case malformed, unknown, expired, revoked
}

/// gateway's `api_tokens` table. Tokens are looked up by the SHA-256 of what the client sent and the
/// stored hash is compared in constant time; the token itself is never stored.
public final class TokenStore: Sendable {
    private let database: DatabasePool

    public init(database: DatabasePool) {
        self.database = database
    }

    @discardableResult
    public func insert(token: String, owner: String, role: TokenRole, tier: String, expiresAt: Date? = nil) throws -> APIToken {
        let record = APIToken(id: Crypto.hex(try Crypto.randomBytes(8)), prefix: APITokenFormat.displayPrefix(token), owner: owner,
                              role: role, tier: tier, createdAt: Date(), expiresAt: expiresAt, revokedAt: nil)
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO api_tokens (id, prefix, hash, owner, role, tier, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.id, record.prefix, APITokenFormat.hash(token), owner, role.rawValue, tier, record.createdAt, expiresAt])
        }
        return record
    }

    public func authenticate(_ presented: String, now: Date = Date()) throws -> Result<APIToken, TokenRejection> {
        guard APITokenFormat.looksValid(presented) else { return .failure(.malformed) }
        let digest = APITokenFormat.hash(presented)
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE hash = ?", arguments: [digest])
        }
        guard let row, Crypto.constantTimeEqual(Array((row["hash"] as String).utf8), Array(digest.utf8)) else {
            return .failure(.unknown)
        }
        let token = APIToken(id: row["id"], prefix: row["prefix"], owner: row["owner"], role: TokenRole(rawValue: row["role"]) ?? .user,
                             tier: row["tier"], createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
        if token.revokedAt != nil { return .failure(.revoked) }
        if let expiry = token.expiresAt, expiry <= now { return .failure(.expired) }
        return .success(token)
    }

    public func hasAdminToken() throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM api_tokens
                               WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?))
                """, arguments: [Date()]) ?? false
        }
    }

    /// Stores the first admin token from a file (`bagbot up`) or a systemd credential, once: only while
    /// no admin token exists, so a later edit of the file cannot grant a second admin.
    public func bootstrapAdmin(fromFile path: String, logger: Logger) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            logger.warning("bootstrap admin token file not found", metadata: ["file": "\(path)"])
            return
        }
        guard try !hasAdminToken() else { return }
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard APITokenFormat.looksValid(token) else {
            throw ConfigError(file: path, key: "", reason: "not a BAGBOT token (expected bgb_ followed by 43 base64url characters)")
        }
        let record = try insert(token: token, owner: "admin", role: .admin, tier: "enterprise")
        logger.notice("first admin token stored", metadata: ["token_prefix": "\(record.prefix)"])
    }
}
