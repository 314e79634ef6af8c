import Foundation
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// What counts as a change for the reads shared between requests (`SharedReadChanges`, `CoalescedRead`).
@Suite("Shared read changes")
struct SharedReadChangesTests {
    @Test("every API request but a shared read notes a change when it ends, its failures too; a shared read notes none")
    func requestsNoteChanges() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "alice", tier: .pro)
        let changes = h.environment.sharedReadChanges
        try await h.app.test(.router) { client async throws in
            var before = changes.current
            for path in ["/api/positions", "/api/account", "/api/mindset"] {
                _ = try await client.call(.get, path, token: token)  // 503: no daemon behind it in this harness
            }
            #expect(changes.current == before, "reading a shared read changes nothing")
            before = changes.current
            _ = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(changes.current == before + 1)
            _ = try await client.call(.delete, "/api/orders/bb-1", token: token)  // fails without routerd: still a change
            #expect(changes.current == before + 2)
            _ = try await client.call(.post, "/api/positions", token: token)  // not a read of it: a change
            #expect(changes.current == before + 3)
        }
    }
}
