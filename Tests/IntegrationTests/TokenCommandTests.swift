import Foundation
import BagbotRuntime
import BagbotTestSupport
import Testing

/// `bagbot token create|list|revoke|rotate` against the real gateway binary, finding it and its admin token from the
/// `bagbot up`-style directory (bagbot.yaml's port, admin.token).
@Suite("bagbot token against a running gateway")
struct TokenCommandTests {
    func bagbot(_ arguments: [String], environment: [String: String] = [:], in directory: String) throws -> (status: Int32, output: String) {
        try BagbotCommand.run(arguments, environment: environment, in: directory)
    }

    @Test("create, list, rotate with grace, revoke; errors are the gateway's code and exit status 1")
    func lifecycle() async throws {
        try await TestSystem.with { system in
            try system.start("gateway")
            try await system.waitUntil("the gateway answers") { (try? await system.get("/api/subscription/me", token: system.adminToken))?.status == 200 }
            let dir = ["--dir", system.root]

            let created = try bagbot(["token", "create", "--owner", "fay", "--tier", "pro", "--expires-in-days", "30"] + dir, in: system.root)
            #expect(created.status == 0, "\(created.output)")
            let secret = try #require(created.output.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("bgb_") })
            #expect(APITokenFormat.classify(secret) == .success(.current))
            #expect(try await system.get("/api/subscription/me", token: secret).status == 200)

            let listed = try bagbot(["token", "list", "--owner", "fay", "--json"] + dir, in: system.root)
            #expect(listed.status == 0, "\(listed.output)")
            let tokens = try #require((try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any])?["tokens"] as? [[String: Any]])
            let id = try #require(tokens.first?["id"] as? String)
            #expect(tokens.count == 1)
            #expect(!listed.output.contains(secret))
            let table = try bagbot(["token", "list"] + dir, in: system.root)
            #expect(table.output.hasPrefix("ID "), "\(table.output)")
            #expect(table.output.contains("fay") && table.output.contains("admin"))

            let rotated = try bagbot(["token", "rotate", id, "--grace-seconds", "600"] + dir, in: system.root)
            #expect(rotated.status == 0, "\(rotated.output)")
            #expect(rotated.output.contains("grace_period"))
            let successor = try #require(rotated.output.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("bgb_") && $0.count == 53 })
            #expect(try await system.get("/api/subscription/me", token: secret).status == 200)   // in its grace period
            #expect(try await system.get("/api/subscription/me", token: successor).status == 200)

            let revoked = try bagbot(["token", "revoke", id] + dir, in: system.root)
            #expect(revoked.status == 0, "\(revoked.output)")
            #expect(try await system.get("/api/subscription/me", token: secret).status == 401)

            let twice = try bagbot(["token", "rotate", id] + dir, in: system.root)
            #expect(twice.status == 1)
            #expect(twice.output.contains("409 token_already_rotated"), "\(twice.output)")

            // Flags and the environment take precedence over the directory.
            let wrongToken = try bagbot(["token", "list", "--dir", "/nonexistent", "--url", "http://127.0.0.1:\(system.port)"],
                                        environment: ["BAGBOT_TOKEN": try APITokenFormat.generate()], in: system.root)
            #expect(wrongToken.status == 1)
            #expect(wrongToken.output.contains("401 token_unknown"), "\(wrongToken.output)")
            let noToken = try bagbot(["token", "list", "--dir", "/nonexistent"], in: system.root)
            #expect(noToken.status == 64)
            #expect(noToken.output.contains("no admin token"))

            // `bagbot token` alone still prints a fresh token, as deploy/install.sh expects.
            let fresh = try bagbot(["token"], in: system.root)
            #expect(fresh.status == 0)
            #expect(APITokenFormat.classify(fresh.output.trimmingCharacters(in: .whitespacesAndNewlines)) == .success(.current))
        }
    }
}
