import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

@Suite("/api/subscription and /api/admin behaviour")
struct SubscriptionAPITests {
    @Test("a rotated token keeps working through its grace period and not a moment after; it cannot be rotated twice")
    func rotationGrace() async throws {
        let h = try APIHarness()
        let old = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client async throws in
            let rotated = try await client.call(.post, "/api/subscription/rotate", token: old, json: #"{"graceSeconds":300}"#)
            #expect(rotated.status == .created)
            let body = try rotated.json()
            let new = try #require(body["token"] as? String)
            #expect(APITokenFormat.classify(new) == .success(.current))
            let previous = try #require(body["previous"] as? [String: Any])
            #expect(previous["state"] as? String == "grace_period")
            #expect(previous["rotatedTo"] as? String == (body["details"] as? [String: Any])?["id"] as? String)

            #expect(try await client.call(.get, "/api/subscription/me", token: new).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: old).status == .ok)
            // The old token cannot mint another successor while it lives on in its grace period.
            let twice = try await client.call(.post, "/api/subscription/rotate", token: old)
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "token_already_rotated")

            h.clock.advance(299)
            #expect(try await client.call(.get, "/api/subscription/me", token: old).status == .ok)
            h.clock.advance(1)
            let after = try await client.call(.get, "/api/subscription/me", token: old)
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == "token_revoked")
            #expect(try await client.call(.get, "/api/subscription/me", token: new).status == .ok)
        }
    }

    @Test("rotation without grace ends the old token at once; a bad grace is 422, a bad body 400")
    func rotationWithoutGrace() async throws {
        let h = try APIHarness()
        let old = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client async throws in
            let tooLong = try await client.call(.post, "/api/subscription/rotate", token: old, json: #"{"graceSeconds":604801}"#)
            #expect(tooLong.status == .unprocessableContent)
            #expect(tooLong.errorCode == "invalid_value")
            let misspelt = try await client.call(.post, "/api/subscription/rotate", token: old, json: #"{"grace":60}"#)
            #expect(misspelt.status == .badRequest)
            #expect(misspelt.errorCode == "unknown_field")
            let notJSON = try await client.call(.post, "/api/subscription/rotate", token: old, json: "grace=60")
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.errorCode == "bad_json")
            let wrongType = try await client.call(.post, "/api/subscription/rotate", token: old, json: #"{"graceSeconds":"60"}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorMessage?.contains("graceSeconds") == true)

            let rotated = try await client.call(.post, "/api/subscription/rotate", token: old)
            #expect(rotated.status == .created)
            #expect(try await client.call(.get, "/api/subscription/me", token: old).errorCode == "token_revoked")
        }
    }

    @Test("DELETE /api/subscription/token revokes the caller's token; the last admin token cannot be revoked")
    func selfRevoke() async throws {
        let h = try APIHarness()
        let user = try await h.token(owner: "pat", tier: .pro)
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        try await h.app.test(.router) { client async throws in
            let revoked = try await client.call(.delete, "/api/subscription/token", token: user)
            #expect(revoked.status == .ok)
            #expect(try revoked.json()["state"] as? String == "revoked")
            #expect(try await client.call(.get, "/api/subscription/me", token: user).errorCode == "token_revoked")

            let last = try await client.call(.delete, "/api/subscription/token", token: admin)
            #expect(last.status == .conflict)
            #expect(last.errorCode == "last_admin_token")
            let lastById = try await client.call(.delete, "/api/admin/tokens/\(try await h.tokenId(admin))", token: admin)
            #expect(lastById.errorCode == "last_admin_token")
            #expect(try await client.call(.get, "/api/subscription/me", token: admin).status == .ok)
        }
    }

    @Test("an admin creates, lists, rotates and revokes tokens; the secret is shown once and only its hash stored")
    func adminTokens() async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        try await h.app.test(.router) { client async throws in
            let created = try await client.call(.post, "/api/admin/tokens", token: admin,
                                                json: #"{"owner":"newbie","tier":"pro","expiresInDays":30}"#)
            #expect(created.status == .created)
            let body = try created.json()
            let secret = try #require(body["token"] as? String)
            let details = try #require(body["details"] as? [String: Any])
            let id = try #require(details["id"] as? String)
            #expect(details["owner"] as? String == "newbie")
            #expect(details["role"] as? String == "user")
            #expect(details["tier"] as? String == "pro")
            #expect(details["expiresAt"] as? String == "2030-04-16T17:46:40Z")
            #expect(try h.count("SELECT COUNT(*) FROM api_tokens WHERE hash = ?", [APITokenFormat.hash(secret)]) == 1)
            #expect(try h.count("SELECT COUNT(*) FROM api_tokens WHERE hash LIKE ? OR prefix = ?", ["%\(secret.dropFirst(10))%", secret]) == 0)
            #expect(try await h.tokens.subscription(owner: "newbie")?.tier == .pro)

            let me = try await client.call(.get, "/api/subscription/me", token: secret)
            #expect(try me.json()["tier"] as? String == "pro")

            // The owner's subscription decides the tier: asking for another is a conflict.
            let conflict = try await client.call(.post, "/api/admin/tokens", token: admin, json: #"{"owner":"newbie","tier":"free"}"#)
            #expect(conflict.status == .conflict)
            #expect(conflict.errorCode == "tier_conflict")

            let listed = try await client.call(.get, "/api/admin/tokens?owner=newbie", token: admin)
            let tokens = try #require(try listed.json()["tokens"] as? [[String: Any]])
            #expect(tokens.count == 1)
            #expect(tokens.first?["id"] as? String == id)
            #expect(tokens.first?["state"] as? String == "active")
            #expect(!String(buffer: listed.body).contains(secret))
            #expect(try await client.call(.get, "/api/admin/tokens?sort=x", token: admin).status == .badRequest)

            let rotated = try await client.call(.post, "/api/admin/tokens/\(id)/rotate", token: admin)
            #expect(rotated.status == .created)
            let successor = try #require(try rotated.json()["token"] as? String)
            #expect(try await client.call(.get, "/api/subscription/me", token: secret).errorCode == "token_revoked")
            #expect(try await client.call(.get, "/api/subscription/me", token: successor).status == .ok)

            let successorId = try await h.tokenId(successor)
            let revoked = try await client.call(.delete, "/api/admin/tokens/\(successorId)", token: admin)
            #expect(revoked.status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: successor).errorCode == "token_revoked")
            let missing = try await client.call(.delete, "/api/admin/tokens/0123456789abcdef", token: admin)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
        }
    }

    @Test("a new token for the first admin (tokens, no subscription) keeps it on its tier: never a Free, read-only admin")
    func newTokenForTheBootstrapAdmin() async throws {
        let h = try APIHarness()
        // As bootstrapAdmin stores it: a token on the Enterprise tier, no subscription row.
        let first = try APITokenFormat.generate()
        _ = try await h.tokens.insert(token: first, owner: "admin", role: .admin, tier: Tier.enterprise.rawValue, now: h.clock.now())
        try await h.app.test(.router) { client async throws in
            let conflict = try await client.call(.post, "/api/admin/tokens", token: first, json: #"{"owner":"admin","tier":"free"}"#)
            #expect(conflict.status == .conflict && conflict.errorCode == "tier_conflict", "\(String(buffer: conflict.body))")
            let created = try await client.call(.post, "/api/admin/tokens", token: first, json: #"{"owner":"admin"}"#)
            #expect(created.status == .created)
            #expect(try (created.json()["details"] as? [String: Any])?["tier"] as? String == "enterprise")
            #expect(try await h.tokens.subscription(owner: "admin")?.tier == .enterprise)
            let me = try await client.call(.get, "/api/subscription/me", token: first)
            #expect(try me.json()["tier"] as? String == "enterprise")
            #expect(try await client.call(.post, "/api/admin/pause", token: first).status != .forbidden)
            // An owner nobody has tokens for still starts on Free.
            let newcomer = try await client.call(.post, "/api/admin/tokens", token: first, json: #"{"owner":"newcomer"}"#)
            #expect(try (newcomer.json()["details"] as? [String: Any])?["tier"] as? String == "free")
            // Only a working token's tier is kept, and only a tier that exists: an expired Pro token, or one on a tier
            // since removed, leaves the owner to start on what is asked (or Free), never on a tier nothing can read.
            _ = try await h.tokens.insert(token: try APITokenFormat.generate(), owner: "lapsed", role: .user, tier: Tier.pro.rawValue,
                                          expiresAt: h.clock.now().addingTimeInterval(-60), now: h.clock.now().addingTimeInterval(-86_400))
            let lapsed = try await client.call(.post, "/api/admin/tokens", token: first, json: #"{"owner":"lapsed","tier":"free"}"#)
            #expect(lapsed.status == .created, "\(String(buffer: lapsed.body))")
            _ = try await h.tokens.insert(token: try APITokenFormat.generate(), owner: "legacy", role: .user, tier: "platinum", now: h.clock.now())
            let legacy = try await client.call(.post, "/api/admin/tokens", token: first, json: #"{"owner":"legacy"}"#)
            #expect(try (legacy.json()["details"] as? [String: Any])?["tier"] as? String == "free")
            #expect(try await h.tokens.subscription(owner: "legacy")?.tier == .free)
        }
    }

    @Test("a token just used (its rows kept in memory) is refused at once once revoked, or its subscription suspended or moved")
    func changesReachKeptRowsAtOnce() async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let alice = try await h.token(owner: "alice", tier: .pro)
        let bob = try await h.token(owner: "bob", tier: .pro)
        try await h.app.test(.router) { client async throws in
            #expect(try await client.call(.get, "/api/subscription/me", token: alice).status == .ok)
            #expect(try await client.call(.delete, "/api/admin/tokens/\(try await h.tokenId(alice))", token: admin).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: alice).errorCode == "token_revoked")

            #expect(try (await client.call(.get, "/api/subscription/me", token: bob)).json()["tier"] as? String == "pro")
            let moved = try await client.call(.put, "/api/admin/subscriptions/bob", token: admin, json: #"{"tier":"free"}"#)
            #expect(moved.status == .ok)
            #expect(try (await client.call(.get, "/api/subscription/me", token: bob)).json()["tier"] as? String == "free")
            let suspended = try await client.call(.put, "/api/admin/subscriptions/bob", token: admin, json: #"{"tier":"free","status":"suspended"}"#)
            #expect(suspended.status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: bob).errorCode == "subscription_suspended")
        }
    }

    @Test("bad admin input is refused with 400 or 422 and a message naming the field",
          arguments: [
              (#"{"tier":"pro"}"#, HTTPResponse.Status.badRequest, "owner"),
              (#"{"owner":"a b"}"#, .unprocessableContent, "owner"),
              (#"{"owner":"x","tier":"gold"}"#, .unprocessableContent, "tier"),
              (#"{"owner":"x","role":"root"}"#, .unprocessableContent, "role"),
              (#"{"owner":"x","expiresInDays":0}"#, .unprocessableContent, "expiresInDays"),
              (#"{"owner":"x","expiresInDays":3651}"#, .unprocessableContent, "expiresInDays"),
              (#"{"owner":"x","expires":1}"#, .badRequest, "expires"),
              (#"["owner"]"#, .badRequest, "object"),
              ("", .badRequest, "body"),
          ])
    func badAdminInput(json: String, status: HTTPResponse.Status, mentioning: String) async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let response = try await h.app.test(.router) { client async throws in
            try await client.call(.post, "/api/admin/tokens", token: admin, json: json)
        }
        #expect(response.status == status, "\(String(buffer: response.body))")
        #expect(response.errorMessage?.contains(mentioning) == true, "\(response.errorMessage ?? "")")
        #expect(try h.count("SELECT COUNT(*) FROM api_tokens") == 1)
    }

    @Test("PUT subscriptions sets tier, status and overrides; a suspended subscriber is refused, an admin never")
    func subscriptions() async throws {
        let h = try APIHarness()
        let admin = try await h.token(owner: "root", tier: .enterprise, role: .admin)
        let user = try await h.token(owner: "pat", tier: .free)
        try await h.app.test(.router) { client async throws in
            let put = try await client.call(.put, "/api/admin/subscriptions/pat", token: admin,
                                            json: #"{"tier":"pro","status":"active","overrides":{"perDay":50}}"#)
            #expect(put.status == .ok)
            let limits = try #require(try put.json()["limits"] as? [String: Any])
            #expect(limits["perMinute"] as? Int == 600)
            #expect(limits["perDay"] as? Int == 50)
            #expect(limits["readOnly"] as? Bool == false)
            let me = try await client.call(.get, "/api/subscription/me", token: user)
            #expect(try me.json()["tier"] as? String == "pro")
            #expect(me["RateLimit-Policy"] == #""minute";q=600;w=60, "day";q=50;w=86400"#)

            #expect(try await client.call(.put, "/api/admin/subscriptions/pat", token: admin,
                                          json: #"{"tier":"pro","status":"paused"}"#).status == .unprocessableContent)
            #expect(try await client.call(.put, "/api/admin/subscriptions/pat", token: admin,
                                          json: #"{"tier":"pro","overrides":{"perMinute":0}}"#).status == .unprocessableContent)
            let misspelt = try await client.call(.put, "/api/admin/subscriptions/pat", token: admin,
                                                 json: #"{"tier":"pro","overrides":{"perHour":1}}"#)
            #expect(misspelt.status == .badRequest)
            #expect(misspelt.errorCode == "unknown_field")
            #expect(misspelt.errorMessage?.contains("overrides.perHour") == true)
            // A brand-new owner's subscription is created: 201.
            #expect(try await client.call(.put, "/api/admin/subscriptions/newbie", token: admin,
                                          json: #"{"tier":"free"}"#).status == .created)

            #expect(try await client.call(.put, "/api/admin/subscriptions/pat", token: admin,
                                          json: #"{"tier":"pro","status":"suspended"}"#).status == .ok)
            let suspended = try await client.call(.get, "/api/subscription/me", token: user)
            #expect(suspended.status == .forbidden)
            #expect(suspended.errorCode == "subscription_suspended")

            #expect(try await client.call(.put, "/api/admin/subscriptions/root", token: admin,
                                          json: #"{"tier":"enterprise","status":"suspended"}"#).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: admin).status == .ok)
        }
    }

    @Test("a read-only tier reads but cannot write outside its own subscription; Pro gets past to the route")
    func readOnlyTier() async throws {
        let h = try APIHarness()
        let free = try await h.token(owner: "fay", tier: .free)
        let pro = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client async throws in
            let write = try await client.call(.post, "/api/orders", token: free, json: "{}")
            #expect(write.status == .forbidden)
            #expect(write.errorCode == "tier_read_only")
            // Pro gets past the tier to the route, which refuses an order without its Idempotency-Key.
            let placed = try await client.call(.post, "/api/orders", token: pro, json: "{}")
            #expect(placed.status == .badRequest)
            #expect(placed.errorCode == "idempotency_key_required", "\(String(buffer: placed.body))")
            #expect(try await client.call(.get, "/api/orders", token: free).status == .serviceUnavailable)
        }
    }

    @Test("tokens made before the checksum keep working unless the setting refuses them")
    func legacyTokens() async throws {
        let legacy = "bgb_" + Crypto.base64URL(try Crypto.randomBytes(32))
        let accepting = try APIHarness()
        try await accepting.tokens.insert(token: legacy, owner: "admin", role: .admin, tier: "enterprise")
        let accepted = try await accepting.app.test(.router) { client async throws in
            try await client.call(.get, "/api/admin/tokens", token: legacy)
        }
        #expect(accepted.status == .ok)

        var settings = GatewaySettings()
        settings.acceptLegacyTokens = false
        let refusing = try APIHarness(settings: settings)
        try await refusing.tokens.insert(token: legacy, owner: "admin", role: .admin, tier: "enterprise")
        let refused = try await refusing.app.test(.router) { client async throws in
            try await client.call(.get, "/api/admin/tokens", token: legacy)
        }
        #expect(refused.status == .unauthorized)
        #expect(refused.errorCode == "token_legacy_refused")
    }

    @Test("GET usage groups the owner's calls by UTC day and route, throttled and errors apart")
    func usageReport() async throws {
        var settings = GatewaySettings()
        settings.tiers.pro = TierLimits(perMinute: 3, perDay: 0, readOnly: false)
        let dir = try TempDir()
        let clock = ManualClock(APIHarness.start)
        let first = try APIHarness(settings: settings, dir: dir, clock: clock)
        let token = try await first.token(owner: "pat", tier: .pro)
        let other = try await first.token(owner: "quinn", tier: .pro)
        try await first.app.test(.router) { client async throws in
            _ = try await client.call(.get, "/api/subscription/me", token: token)
            _ = try await client.call(.get, "/api/orders", token: token)            // 503: an error
            _ = try await client.call(.get, "/api/admin/tokens", token: token)      // 403: an error
            _ = try await client.call(.get, "/api/subscription/me", token: token)   // 429: throttled
            _ = try await client.call(.get, "/api/subscription/me", token: other)   // someone else's
        }
        clock.advance(Double(APIHarness.secondsToMidnight))
        let second = try APIHarness(settings: settings, dir: dir, clock: clock)
        let report = try await second.app.test(.router) { client async throws in
            try await client.call(.get, "/api/subscription/usage?days=2", token: token)
        }
        #expect(report.status == .ok)
        let days = try #require(try report.json()["days"] as? [[String: Any]])
        // Today has no row yet: the report's own call is recorded after it is answered, and written in a batch.
        #expect(days.count == 1)
        let yesterday = try #require(days.first)
        #expect(yesterday["day"] as? String == "2030-03-17")
        #expect(yesterday["counted"] as? Int == 3)
        let routes = try #require(yesterday["routes"] as? [[String: Any]])
        let me = try #require(routes.first { $0["route"] as? String == "/api/subscription/me" })
        #expect(me["calls"] as? Int == 2)
        #expect(me["throttled"] as? Int == 1)
        #expect(me["errors"] as? Int == 0)
        #expect(routes.first { $0["route"] as? String == "/api/orders" }?["errors"] as? Int == 1)
        #expect(routes.first { $0["route"] as? String == "/api/admin/tokens" }?["errors"] as? Int == 1)
    }
}
