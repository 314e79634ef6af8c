import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOEmbedded
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// Drives the middleware directly: a real request head, a real token store, and a `next` that reports
/// which token reached the route.
struct AuthHarness {
    let fixture: TokenFixture
    let userToken: String
    let adminToken: String

    init() async throws {
        fixture = try TokenFixture()
        userToken = try APITokenFormat.generate()
        adminToken = try APITokenFormat.generate()
        try await fixture.tokens.insert(token: userToken, owner: "ursula", role: .user, tier: "pro")
        try await fixture.tokens.insert(token: adminToken, owner: "root", role: .admin, tier: "enterprise")
    }

    static let ownerHeader = HTTPField.Name("X-Test-Owner")!

    /// The owner that reached the route, or the APIError that stopped the request.
    func call(authorization: String?, role: TokenRole) async throws -> Result<String, APIError> {
        var fields = HTTPFields()
        if let authorization { fields[.authorization] = authorization }
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/api/orders", headerFields: fields),
                              body: RequestBody(buffer: ByteBuffer()))
        let context = GatewayContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: quietLogger))
        let middleware = BearerAuthMiddleware(tokens: fixture.tokens, requiredRole: role)
        do {
            let response = try await middleware.handle(request, context: context) { _, context in
                var headers = HTTPFields()
                headers[Self.ownerHeader] = context.token?.owner ?? "<no token in context>"
                return Response(status: .ok, headers: headers)
            }
            return .success(response.headers[Self.ownerHeader] ?? "")
        } catch let error as APIError {
            return .failure(error)
        }
    }
}

@Suite("BearerAuthMiddleware")
struct BearerAuthTests {
    @Test("a valid token reaches the route with its identity in the context")
    func validToken() async throws {
        let h = try await AuthHarness()
        #expect(try await h.call(authorization: "Bearer \(h.userToken)", role: .user).success == "ursula")
        #expect(try await h.call(authorization: "Bearer \(h.adminToken)", role: .admin).success == "root")
        #expect(try await h.call(authorization: "Bearer \(h.adminToken)", role: .user).success == "root")
        // The scheme is case-insensitive and surrounding spaces are tolerated.
        #expect(try await h.call(authorization: "bearer  \(h.userToken) ", role: .user).success == "ursula")
    }

    @Test("missing, wrong-scheme, malformed and unknown tokens are 401 with a reason")
    func unauthorized() async throws {
        let h = try await AuthHarness()
        let cases: [(String?, String)] = [
            (nil, "missing"),
            ("Basic dXNlcjpwYXNz", "Bearer"),
            ("Bearer", "Bearer"),
            ("Bearer not-a-token", "malformed"),
            ("Bearer \(try APITokenFormat.generate())", "unknown"),
            (h.userToken, "Bearer"),
        ]
        for (header, reason) in cases {
            let error = try #require(try await h.call(authorization: header, role: .user).failure, "\(header ?? "nil")")
            #expect(error.status == .unauthorized, "\(header ?? "nil")")
            #expect(error.code == "unauthorized")
            #expect(error.message.contains(reason), "\(error.message) should mention \(reason)")
        }
    }

    @Test("expired and revoked tokens are 401")
    func expiredAndRevoked() async throws {
        let h = try await AuthHarness()
        let expired = try APITokenFormat.generate()
        try await h.fixture.tokens.insert(token: expired, owner: "old", role: .admin, tier: "pro", expiresAt: Date().addingTimeInterval(-1))
        let expiredError = try #require(try await h.call(authorization: "Bearer \(expired)", role: .user).failure)
        #expect(expiredError.status == .unauthorized)
        #expect(expiredError.message.contains("expired"))

        try await h.fixture.database.write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE owner = 'ursula'", arguments: [Date()])
        }
        let revokedError = try #require(try await h.call(authorization: "Bearer \(h.userToken)", role: .user).failure)
        #expect(revokedError.status == .unauthorized)
        #expect(revokedError.message.contains("revoked"))
    }

    @Test("a user token on an admin route is 403")
    func wrongRole() async throws {
        let h = try await AuthHarness()
        let error = try #require(try await h.call(authorization: "Bearer \(h.userToken)", role: .admin).failure)
        #expect(error.status == .forbidden)
        #expect(error.code == "forbidden")
    }
}
