import Foundation
import GRDB
import Hummingbird
import HummingbirdCore
import Logging
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import GatewayCore




struct TokenFixture {
    let dir: TempDir
    let database: DatabasePool
    let tokens: TokenStore

    init() throws {
        dir = try TempDir()
        database = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        tokens = TokenStore(database: database)
    }

    func adminCount() throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM api_tokens WHERE role = 'admin'") ?? -1 }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

@Suite("APITokenFormat")
struct APITokenFormatTests {
    static func isBase64URL(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_") }

    @Test("generated tokens are bgb_ + 43 base64url characters + a 6-character checksum, unique, and valid")
    func generate() throws {
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = try APITokenFormat.generate()
            #expect(token.hasPrefix("bgb_"))
            #expect(token.count == 53)
            #expect(token.dropFirst(4).allSatisfy(Self.isBase64URL))
            #expect(APITokenFormat.classify(token) == .success(.current))
            #expect(String(token.suffix(6)) == APITokenFormat.checksum(of: String(token.prefix(47))))
            seen.insert(token)
        }
        #expect(seen.count == 200)
    }

    @Test("the checksum is CRC-32 (IEEE) in base 62, six characters")
    func checksum() {
        // The standard CRC-32 check value: crc32("123456789") = 0xCBF43926.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(APITokenFormat.base62(0, width: 6) == "000000")
        #expect(APITokenFormat.base62(61, width: 6) == "00000z")
        #expect(APITokenFormat.base62(62, width: 6) == "000010")
        #expect(APITokenFormat.base62(UInt32.max, width: 6) == "4gfFC3")
        #expect(APITokenFormat.checksum(of: "123456789") == "3jZRME")
        // Computed independently (Python: zlib.crc32, then base 62), so a scanner can check a token the same way.
        let known = "bgb_" + String(repeating: "A", count: 43) + "1n61Dn"
        #expect(APITokenFormat.classify(known) == .success(.current))
    }

    @Test("every single-character change and every adjacent swap of a token is refused by its checksum")
    func typosAreCaught() throws {
        let token = try APITokenFormat.generate()
        let characters = Array(token)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for index in 4..<characters.count {
            for replacement in alphabet where replacement != characters[index] {
                var typo = characters
                typo[index] = replacement
                #expect(APITokenFormat.classify(String(typo)) == .failure(.badChecksum), "position \(index)")
            }
            if index + 1 < characters.count, characters[index] != characters[index + 1] {
                var swapped = characters
                swapped.swapAt(index, index + 1)
                #expect(APITokenFormat.classify(String(swapped)) == .failure(.badChecksum), "swap at \(index)")
            }
        }
    }

    @Test("tokens made before the checksum (bgb_ + 43 characters) are recognised as legacy")
    func legacy() throws {
        let legacy = "bgb_" + Crypto.base64URL(try Crypto.randomBytes(32))
        #expect(legacy.count == 47)
        #expect(APITokenFormat.classify(legacy) == .success(.legacy))
        #expect(APITokenFormat.looksValid(legacy))
    }

    @Test("everything else is malformed")
    func malformed() throws {
        let token = try APITokenFormat.generate()
        let body = String(token.dropFirst(4))
        for bad in ["", "bgb_", "xyz_" + body, "BGB_" + body, token + "A", String(token.dropLast()),
                    "bgb_" + String(body.dropLast()) + "+", "bgb_" + String(body.dropLast()) + "=",
                    "bgb_" + String(body.dropLast()) + "/", "bgb_" + String(body.dropLast()) + "é", " " + token,
                    String(repeating: "x", count: 53), "bgb_" + String(repeating: "+", count: 43)] {
            #expect(APITokenFormat.classify(bad) == .failure(.malformed), "\(bad)")
            #expect(!APITokenFormat.looksValid(bad))
        }
    }

    @Test("the hash is the hex SHA-256 of the whole token; the display prefix is short")
    func hashAndPrefix() {
        #expect(APITokenFormat.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let token = "bgb_" + String(repeating: "A", count: 43)
        #expect(APITokenFormat.displayPrefix(token) == "bgb_AAAAAA")
    }
}

@Suite("TokenStore on a real SQLite file")
struct TokenStoreTests {
    @Test("an inserted token authenticates; only its hash is stored")
    func insertAndAuthenticate() async throws {
        let fixture = try TokenFixture()
        let token = try APITokenFormat.generate()
        let record = try await fixture.tokens.insert(token: token, owner: "alice", role: .user, tier: "pro")
        #expect(record.prefix == APITokenFormat.displayPrefix(token))

        let result = try await fixture.tokens.authenticate(token)
        let authenticated = try #require(result.success?.token)
        #expect(authenticated.id == record.id)
        #expect(authenticated.owner == "alice")
        #expect(authenticated.role == .user)
        #expect(authenticated.tier == "pro")
        #expect(authenticated.revokedAt == nil)

        let stored = try fixture.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_tokens")
        }
        #expect(stored.count == 1)
        #expect((stored.first?["hash"] as String?) == APITokenFormat.hash(token))
        let everything = stored.first.map { row in row.columnNames.map { "\(row[$0] ?? "")" }.joined(separator: "|") } ?? ""
        #expect(!everything.contains(String(token.dropFirst(10))), "the token itself must never be stored")
    }

    @Test("an unknown token is refused as unknown; a malformed one as malformed")
    func unknownAndMalformed() async throws {
        let fixture = try TokenFixture()
        try await fixture.tokens.insert(token: try APITokenFormat.generate(), owner: "alice", role: .user, tier: "free")
        #expect(try await fixture.tokens.authenticate(try APITokenFormat.generate()).failure == .unknown)
        for malformed in ["", "Bearer", "bgb_short", "secret", String(repeating: "x", count: 47), "bgb_" + String(repeating: "+", count: 43)] {
            #expect(try await fixture.tokens.authenticate(malformed).failure == .malformed, "\(malformed)")
        }
        let token = try APITokenFormat.generate()
        let typo = String(token.dropLast()) + (token.last == "A" ? "B" : "A")
        #expect(try await fixture.tokens.authenticate(typo).failure == .badChecksum)
    }

    @Test("an expired token is refused from its expiry on")
    func expired() async throws {
        let fixture = try TokenFixture()
        let token = try APITokenFormat.generate()
        let expiry = Date(timeIntervalSince1970: 1_900_000_000)
        try await fixture.tokens.insert(token: token, owner: "bob", role: .user, tier: "pro", expiresAt: expiry)
        #expect(try await fixture.tokens.authenticate(token, now: expiry.addingTimeInterval(-1)).success?.token.owner == "bob")
        #expect(try await fixture.tokens.authenticate(token, now: expiry).failure == .expired)
        #expect(try await fixture.tokens.authenticate(token, now: expiry.addingTimeInterval(86_400)).failure == .expired)

        let old = try APITokenFormat.generate()
        try await fixture.tokens.insert(token: old, owner: "carol", role: .admin, tier: "enterprise", expiresAt: Date().addingTimeInterval(-60))
        #expect(try await fixture.tokens.authenticate(old).failure == .expired)
    }

    @Test("a token revoked or rotated without grace is refused from that instant: never stored as a later time")
    func revokedFromTheInstant() async throws {
        let fixture = try TokenFixture()
        _ = try await fixture.tokens.insert(token: try APITokenFormat.generate(), owner: "root", role: .admin, tier: "enterprise")
        for step in 0..<300 {
            let token = try APITokenFormat.generate()
            let record = try await fixture.tokens.insert(token: token, owner: "u\(step)", role: .user, tier: "pro")
            let now = Date()
            if step % 2 == 0 {
                _ = try await fixture.tokens.revoke(id: record.id, now: now)
            } else {
                _ = try await fixture.tokens.rotate(id: record.id, graceSeconds: 0, now: now)
            }
            // Checked at the very instant of the change: the stored time, read back, is not after it.
            #expect(try await fixture.tokens.authenticate(token, now: now).failure == .revoked, "step \(step)")
        }
        // Rounding down, never up; a whole millisecond stays as it is.
        let instant = Date(timeIntervalSince1970: 1_800_000_000.1239)
        #expect(TokenStore.stored(notAfter: instant) <= instant)
        #expect(TokenStore.stored(notAfter: instant).databaseText.hasSuffix(".123"))
        #expect(TokenStore.stored(notAfter: Date(timeIntervalSince1970: 1_800_000_000.5)).databaseText.hasSuffix(".500"))
    }

    @Test("a revocation stored at now's millisecond is in force at now, also where now × 1000 rounds up onto that millisecond")
    func revokedAtTheMillisecondBoundary() throws {
        // A `now` just under a millisecond whose product with 1000 rounds up onto it: its revocation is stored as that
        // millisecond, whose Double lies after `now` (the flake of `revokedFromTheInstant`, about once in 30 runs).
        var found: Date?
        for millisecond in stride(from: 1_765_000_000_000.0, to: 1_765_000_100_000, by: 1) {
            let boundary = millisecond / 1_000
            let now = boundary.nextDown
            if (now * 1_000).rounded(.down) == millisecond {
                found = Date(timeIntervalSince1970: now)
                break
            }
        }
        let now = try #require(found)
        let revokedAt = TokenStore.stored(notAfter: now)
        #expect(revokedAt > now, "the case this test is about")
        let token = APIToken(id: "t", prefix: "bgb_x", owner: "o", role: .user, tier: "pro", createdAt: now.addingTimeInterval(-60),
                             expiresAt: nil, revokedAt: revokedAt, lastUsedAt: nil, rotatedTo: nil)
        #expect(token.state(at: now) == .revoked)
        var expiring = token
        (expiring.revokedAt, expiring.expiresAt) = (nil, revokedAt)
        #expect(expiring.state(at: now) == .expired)
    }

    @Test("a revoked token is refused as revoked")
    func revoked() async throws {
        let fixture = try TokenFixture()
        let token = try APITokenFormat.generate()
        let record = try await fixture.tokens.insert(token: token, owner: "dave", role: .admin, tier: "enterprise")
        #expect(try await fixture.tokens.hasAdminToken())
        try await fixture.database.write { db in
            // A second ago: a time is stored to the nearest millisecond, so "now" may be stored up to 0.5 ms ahead, and a
            // check within that half millisecond would see a revocation still to come (a grace period).
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", arguments: [Date().addingTimeInterval(-1), record.id])
        }
        #expect(try await fixture.tokens.authenticate(token).failure == .revoked)
        #expect(try await fixture.tokens.hasAdminToken() == false)
    }

    @Test("bootstrapAdmin stores the file's token only while no admin exists")
    func bootstrapAdmin() async throws {
        let fixture = try TokenFixture()
        let first = try APITokenFormat.generate()
        let firstFile = fixture.dir.file("admin.token")
        try (first + "\n").write(toFile: firstFile, atomically: true, encoding: .utf8)

        // A user token is not an admin.
        try await fixture.tokens.insert(token: try APITokenFormat.generate(), owner: "user", role: .user, tier: "free")
        #expect(try await fixture.tokens.hasAdminToken() == false)

        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: firstFile, logger: quietLogger) == .stored(hash: APITokenFormat.hash(first)))
        let admin = try #require(try await fixture.tokens.authenticate(first).success?.token)
        #expect(admin.role == .admin)
        #expect(try fixture.adminCount() == 1)
        // At the next start the file (not yet erased) holds the stored token: its plaintext may go.
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: firstFile, logger: quietLogger) == .alreadyStored(hash: APITokenFormat.hash(first)))

        // A later edit of the file cannot grant a second admin, and that token's plaintext is not to be erased.
        let second = try APITokenFormat.generate()
        try second.write(toFile: firstFile, atomically: true, encoding: .utf8)
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: firstFile, logger: quietLogger) == .notStored)
        #expect(try fixture.adminCount() == 1)
        #expect(try await fixture.tokens.authenticate(second).failure == .unknown)
        // Nor is junk an error once an admin exists: the gateway starts, the file is left for the operator.
        try "password123".write(toFile: firstFile, atomically: true, encoding: .utf8)
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: firstFile, logger: quietLogger) == .notStored)

        // A missing file changes nothing; a file without a valid token is an error while no admin exists.
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: fixture.dir.file("missing"), logger: quietLogger) == .noToken)
        let other = try TokenFixture()
        let junk = other.dir.file("junk.token")
        try "password123".write(toFile: junk, atomically: true, encoding: .utf8)
        await #expect(throws: ConfigError.self) { try await other.tokens.bootstrapAdmin(fromFile: junk, logger: quietLogger) }
        #expect(try other.adminCount() == 0)
        // An emptied file (its token erased once stored) is no token, and no error: the gateway starts.
        let emptied = other.dir.file("emptied.token")
        try "\n".write(toFile: emptied, atomically: true, encoding: .utf8)
        #expect(try await other.tokens.bootstrapAdmin(fromFile: emptied, logger: quietLogger) == .noToken)
        #expect(try other.adminCount() == 0)
    }

    @Test("bootstrapAdmin: a file token stored as a user's is not stored; an unreadable file stops the start only while no admin exists")
    func bootstrapAdminOddFiles() async throws {
        let fixture = try TokenFixture()
        let file = fixture.dir.file("admin.token")
        // A subscriber's token in the bootstrap file: not an admin's, so its plaintext is not to be erased.
        let user = try APITokenFormat.generate()
        try await fixture.tokens.insert(token: user, owner: "sam", role: .user, tier: "pro")
        try user.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: file, logger: quietLogger) == .notStored)
        #expect(try fixture.adminCount() == 0)

        // Not UTF-8: an error while the file is the only way in…
        try Data([0x62, 0x67, 0x62, 0x5F, 0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: file))
        await #expect(throws: (any Error).self) { try await fixture.tokens.bootstrapAdmin(fromFile: file, logger: quietLogger) }
        // …and no reason to stop the gateway once an admin exists.
        try await fixture.tokens.insert(token: try APITokenFormat.generate(), owner: "root", role: .admin, tier: "enterprise")
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: file, logger: quietLogger) == .notStored)
    }

    @Test("the marker for the systemd unit holds the stored token's hash, and is removed for any other outcome")
    func adminTokenMarker() async throws {
        let dir = try TempDir()
        let marker = AdminTokenMarker.path(runDir: dir.path)
        let hash = APITokenFormat.hash(try APITokenFormat.generate())
        try AdminTokenMarker.record(.stored(hash: hash), runDir: dir.path)
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == hash)
        try AdminTokenMarker.record(.notStored, runDir: dir.path)
        #expect(!FileManager.default.fileExists(atPath: marker))
        try AdminTokenMarker.record(.alreadyStored(hash: hash), runDir: dir.path)
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == hash)
        try AdminTokenMarker.record(.noToken, runDir: dir.path)
        #expect(!FileManager.default.fileExists(atPath: marker))
        try AdminTokenMarker.record(.noToken, runDir: dir.path)  // already absent: no error
        // The hash is what `sha256sum` prints for the file's token, which the unit compares it with.
        let token = try APITokenFormat.generate()
        let file = dir.file("admin-token")
        try (token + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let shell = try await ToolRun.run("/bin/sh", ["-c", "tr -d '[:space:]' < \"$0\" | sha256sum | cut -d' ' -f1", file])
        #expect(shell.output.trimmingCharacters(in: .whitespacesAndNewlines) == APITokenFormat.hash(token))
    }

    @Test("a revoked bootstrap token is never resurrected from the file")
    func revokedBootstrapStaysRevoked() async throws {
        let fixture = try TokenFixture()
        let token = try APITokenFormat.generate()
        let file = fixture.dir.file("admin.token")
        try token.write(toFile: file, atomically: true, encoding: .utf8)
        try await fixture.tokens.bootstrapAdmin(fromFile: file, logger: quietLogger)
        try await fixture.database.write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ?", arguments: [Date().addingTimeInterval(-1)])  // see `revoked`
        }
        #expect(try await fixture.tokens.bootstrapAdmin(fromFile: file, logger: quietLogger) == .alreadyStored(hash: APITokenFormat.hash(token)))
        #expect(try await fixture.tokens.authenticate(token).failure == .revoked)
    }
}

@Suite("GatewayRoutes.ordersQuery")
struct OrdersQueryTests {
    func parse(_ query: String) throws -> OrdersQuery {
        try GatewayRoutes.ordersQuery(from: URI("/api/orders" + query).queryParameters)
    }

    func expectBadRequest(_ query: String, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let parsed = try parse(query)
            Issue.record("\(query) should be refused, got \(parsed)", sourceLocation: sourceLocation)
        } catch let error as APIError {
            #expect(error.status == .badRequest, sourceLocation: sourceLocation)
            #expect(error.code == "bad_request", sourceLocation: sourceLocation)
            for word in words {
                #expect(error.message.contains(word), "\(error.message)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("\(query): expected APIError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("valid parameters become the query")
    func valid() throws {
        let empty = try parse("")
        #expect(empty.symbol == nil && empty.status == nil && empty.strategyId == nil && empty.limit == nil)
        let full = try parse("?symbol=BTCUSDT&status=partially_filled&strategy=micro_trend&limit=1000")
        #expect(full.symbol == "BTCUSDT")
        #expect(full.status == .partiallyFilled)
        #expect(full.strategyId == "micro_trend")
        #expect(full.limit == 1_000)
        #expect(try parse("?limit=1").limit == 1)
        for status in OrderStatus.allCases {
            #expect(try parse("?status=\(status.rawValue)").status == status)
        }
    }

    @Test("an unknown parameter is refused and named")
    func unknownParameter() {
        expectBadRequest("?symbol=BTCUSDT&sort=price", mentioning: ["'sort'"])
        expectBadRequest("?Symbol=BTCUSDT", mentioning: ["'Symbol'"])
        expectBadRequest("?strategy_id=x", mentioning: ["'strategy_id'"])
        // A 10,000-character parameter name is quoted as an excerpt, not echoed whole.
        let long = String(repeating: "k", count: 10_000)
        do {
            _ = try parse("?\(long)=1")
            Issue.record("an unknown parameter was accepted")
        } catch let error as APIError {
            #expect(error.message.utf8.count < 200, "\(error.message.prefix(80))")
        } catch {
            Issue.record("expected APIError, got \(error)")
        }
    }

    @Test("a strategy filter is 1–64 letters, digits and . _ : -")
    func badStrategy() {
        expectBadRequest("?strategy=", mentioning: ["strategy"])
        expectBadRequest("?strategy=\(String(repeating: "s", count: 65))", mentioning: ["strategy"])
        expectBadRequest("?strategy=a%20b", mentioning: ["strategy"])
        #expect((try? parse("?strategy=micro_trend"))?.strategyId == "micro_trend")
    }

    @Test("a bad status is refused with the valid ones listed")
    func badStatus() {
        expectBadRequest("?status=done", mentioning: ["status", "pending_new", "filled"])
        expectBadRequest("?status=FILLED", mentioning: ["status"])
        expectBadRequest("?status=", mentioning: ["status"])
    }

    @Test("a bad limit is refused", arguments: ["0", "1001", "-1", "abc", "", "10.5", "99999999999999999999"])
    func badLimit(limit: String) {
        expectBadRequest("?limit=\(limit)", mentioning: ["limit"])
    }

    @Test("a bad symbol is refused", arguments: ["", "BTC-USDT", "BTC%2FUSDT", String(repeating: "A", count: 33), "%C3%84PFEL"])
    func badSymbol(symbol: String) {
        expectBadRequest("?symbol=\(symbol)", mentioning: ["symbol"])
    }
}

@Suite("APIError")
struct APIErrorTests {
    @Test("daemon errors map onto HTTP statuses", arguments: [
        (IPCErrorCode.unavailable, HTTPResponse.Status.serviceUnavailable, "daemon_unavailable"),
        (.timeout, .serviceUnavailable, "daemon_unavailable"),
        (.badRequest, .badRequest, "bad_request"),
        (.notFound, .notFound, "not_found"),
        (.conflict, .conflict, "conflict"),
        (.tradingPaused, .conflict, "trading_paused"),
        (.forbidden, .forbidden, "forbidden"),
        (.internal, .internalServerError, "internal"),
    ])
    func mapping(code: IPCErrorCode, status: HTTPResponse.Status, apiCode: String) {
        let error = APIError.from(IPCError(code, "because"), daemon: "routerd")
        #expect(error.status == status)
        #expect(error.code == apiCode)
        #expect(error.message.contains("because"))
    }

    @Test("a non-IPC error is an internal error")
    func otherErrors() {
        let error = APIError.from(TestFailure("boom"), daemon: "routerd")
        #expect(error.status == .internalServerError)
        #expect(error.code == "internal")
    }
}
