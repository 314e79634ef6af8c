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
    public func insert(token: String, owner: String, role: TokenRole, tier: String, expiresAt: Date? = nil) async throws -> APIToken {
        let record = APITokenRecord(
            id: Crypto.hex(try Crypto.randomBytes(8)), prefix: APITokenFormat.displayPrefix(token), hash: APITokenFormat.hash(token),
            owner: owner, role: role, tier: tier, createdAt: Date(), expiresAt: expiresAt)
        try await database.write { db in try record.insert(db) }
        return record.token
    }

    public func authenticate(_ presented: String, now: Date = Date()) async throws -> Result<APIToken, TokenRejection> {
        guard APITokenFormat.looksValid(presented) else { return .failure(.malformed) }
        let digest = APITokenFormat.hash(presented)
        let record = try await database.read { db in
            try APITokenRecord.filter(APITokenRecord.Columns.hash == digest).fetchOne(db)
        }
        guard let record, Crypto.constantTimeEqual(Array(record.hash.utf8), Array(digest.utf8)) else {
            return .failure(.unknown)
        }
        if record.revokedAt != nil { return .failure(.revoked) }
        if let expiry = record.expiresAt, expiry <= now { return .failure(.expired) }
        return .success(record.token)
    }

    public func hasAdminToken() async throws -> Bool {
        let now = Date()
        return try await database.read { db in
            try APITokenRecord
                .filter(APITokenRecord.Columns.role == TokenRole.admin.rawValue && APITokenRecord.Columns.revokedAt == nil)
                .filter(APITokenRecord.Columns.expiresAt == nil || APITokenRecord.Columns.expiresAt > now)
                .isEmpty(db) == false
        }
    }

    /// Stores the first admin token from a file (`bagbot up`) or a systemd credential, once: only while
    /// no admin token exists, so a later edit of the file cannot grant a second admin.
    public func bootstrapAdmin(fromFile path: String, logger: Logger) async throws {
        guard FileManager.default.fileExists(atPath: path) else {
            logger.warning("bootstrap admin token file not found", metadata: ["file": "\(path)"])
            return
        }
        guard try await !hasAdminToken() else { return }
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard APITokenFormat.looksValid(token) else {
            throw ConfigError(file: path, key: "", reason: "not a BAGBOT token (expected bgb_ followed by 43 base64url characters)")
        }
        let record = try await insert(token: token, owner: "admin", role: .admin, tier: "enterprise")
        logger.notice("first admin token stored", metadata: ["token_prefix": "\(record.prefix)"])
    }
}
