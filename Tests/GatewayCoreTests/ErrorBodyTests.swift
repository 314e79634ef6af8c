import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// Hummingbird's own refusals leave as the API's JSON errors too.
@Suite("404, 405 and 413 as JSON")
struct ErrorBodyTests {
    @Test("an unknown route is 404 JSON; the token is checked first (only /healthz and /openapi.json are public) and the fields follow")
    func notFound() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client async throws in
            let outsideAnonymous = try await client.call(.get, "/nowhere")
            #expect(outsideAnonymous.status == .unauthorized)
            #expect(outsideAnonymous.errorCode == "token_missing")
            let outside = try await client.call(.get, "/nowhere", token: token)
            #expect(outside.status == .notFound)
            #expect(outside.errorCode == "not_found")
            #expect(outside.errorMessage == "no route GET /nowhere")
            #expect(outside.headers[.contentType] == "application/json; charset=utf-8")

            let anonymous = try await client.call(.get, "/api/nowhere")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.errorCode == "token_missing")

            let known = try await client.call(.get, "/api/nowhere", token: token)
            #expect(known.status == .notFound)
            #expect(known.errorCode == "not_found")
            #expect(known["X-RateLimit-Remaining"] == "598", "two admitted calls of the owner")
        }
    }

    @Test("a wrong method is 405 JSON with Allow", arguments: [
        (HTTPRequest.Method.patch, "/api/subscription/me", "GET, HEAD"),
        (.post, "/api/subscription/usage", "GET, HEAD"),
        (.get, "/api/subscription/rotate", "POST"),
        (.put, "/api/admin/tokens", "POST, GET, HEAD"),
        (.get, "/api/admin/tokens/abc", "DELETE"),
        (.delete, "/api/admin/subscriptions/pat", "PUT"),
        (.post, "/healthz", "GET, HEAD"),
    ])
    func methodNotAllowed(method: HTTPRequest.Method, path: String, allow: String) async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let response = try await h.app.test(.router) { client async throws in
            try await client.call(method, path, token: admin)
        }
        #expect(response.status == .methodNotAllowed)
        #expect(response.errorCode == "method_not_allowed")
        #expect(response.headers[.allow] == allow)
    }

    @Test("a body over 64 KiB is 413 JSON, and nothing is created")
    func tooLarge() async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let padding = String(repeating: "x", count: GatewayContext.maximumBodyBytes)
        let response = try await h.app.test(.router) { client async throws in
            try await client.call(.post, "/api/admin/tokens", token: admin, json: #"{"owner":"big","pad":"\#(padding)"}"#)
        }
        #expect(response.status == .contentTooLarge)
        #expect(response.errorCode == "payload_too_large")
        #expect(response["X-RateLimit-Limit"] == "6000")
        #expect(try h.count("SELECT COUNT(*) FROM api_tokens") == 1)
    }

    @Test("HEAD of a GET route is served without a body")
    func head() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "pat", tier: .pro)
        let response = try await h.app.test(.router) { client async throws in
            try await client.call(.head, "/api/subscription/me", token: token)
        }
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
    }
}
