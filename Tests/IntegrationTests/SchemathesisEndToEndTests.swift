import Foundation
import BagbotTestSupport
import Testing

/// schemathesis (Tests/Peers/requirements.txt) fuzzes the running gateway from its own `/openapi.json`: with an admin
/// token and with a Free one, no request may get a 5xx or an answer its document does not describe (status, content
/// type, headers, body). The four real daemons are behind it, so the routes answer as they do for a subscriber.
@Suite("schemathesis against the running gateway", .serialized)
struct SchemathesisEndToEndTests {
    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    @Test("admin and Free tokens: no server error, every answer as the document says")
    func fuzz() async throws {
        let st = URL(fileURLWithPath: try TestPeers.python).deletingLastPathComponent().appendingPathComponent("st").path
        try await TestSystem.with { system in
            try system.start()
            try await system.waitUntil("every daemon up behind the gateway", timeout: .seconds(60)) {
                (try? await system.get("/healthz"))?.status == 200
            }
            let first = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            // Tokens of owners of their own, so what the fuzzer does to subscriptions and tokens (it creates and
            // changes them at random) reaches neither the first admin nor these two by chance.
            func token(_ body: String) async throws -> String {
                let created = try await system.send("POST", "/api/admin/tokens", token: first, json: body)
                guard created.status == 201, let secret = Self.json(created.body)["token"] as? String else {
                    throw TestFailure("POST /api/admin/tokens \(body): \(created.status) \(String(decoding: created.body, as: UTF8.self))")
                }
                return secret
            }
            let admin = try await token(#"{"owner":"fuzz-admin-7f3a","tier":"enterprise","role":"admin"}"#)
            let free = try await token(#"{"owner":"fuzz-free-7f3a","tier":"free"}"#)
            // Free stays read-only; only its rate limit is lifted, so the run sees 403s rather than 429s.
            let raised = try await system.send("PUT", "/api/admin/subscriptions/fuzz-free-7f3a", token: first,
                                               json: #"{"tier":"free","overrides":{"perMinute":100000,"perDay":0}}"#)
            #expect(raised.status == 200 || raised.status == 201, "\(raised.status) \(String(decoding: raised.body, as: UTF8.self))")

            let reports = try TempDir()
            for (name, secret) in [("admin", admin), ("free", free)] {
                let run = try await ToolRun.run(st, [
                    "run", "http://127.0.0.1:\(system.port)/openapi.json",
                    "-H", "Authorization: Bearer \(secret)",
                    "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance",
                    "--max-examples", "15", "--seed", "42", "--workers", "1",
                    "--phases", "examples,coverage,fuzzing",
                    // Never the fuzzing token's own end: revoking or rotating it would leave the rest of the run refused.
                    "--exclude-path", "/api/subscription/token", "--exclude-path", "/api/subscription/rotate",
                    "--exclude-path-regex", #"^/api/admin/tokens/\{id\}"#,
                    "--report", "junit", "--report-dir", reports.file(name),
                    "--no-color",
                ], directory: reports.path, timeout: .seconds(600))
                #expect(run.status == 0, "schemathesis with the \(name) token:\n\(run.output.suffix(12_000))")
            }
        }
    }
}
