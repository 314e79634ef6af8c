import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BagbotRuntime

/// `bagbot token`: with no subcommand, prints a new random token (what deploy/install.sh uses for the first admin
/// token); `create`, `list`, `revoke` and `rotate` manage tokens through a running gateway's admin API.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new random API token, or manage tokens through a running gateway.",
        subcommands: [New.self, Create.self, List.self, Revoke.self, Rotate.self],
        defaultSubcommand: New.self)

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random API token (bgb_ + 32 random bytes in base64url + a 6-character checksum); nothing is stored.")

        func run() throws {
            StandardOutput.print(try APITokenFormat.generate())
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token (POST /api/admin/tokens); its secret is printed once.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "Who the token is for: 1–64 letters, digits and . _ @ -.") var owner: String
        @Option(help: "free, pro or enterprise (for an owner without a subscription; default free).") var tier: String?
        @Option(help: "user or admin.") var role: String = "user"
        @Option(help: "Days until it expires (1–3650); without it, it does not expire.") var expiresInDays: Int?

        func run() async throws {
            var body: [String: Any] = ["owner": owner, "role": role]
            if let tier { body["tier"] = tier }
            if let expiresInDays { body["expiresInDays"] = expiresInDays }
            let answer = try await gateway.client().send("POST", "/api/admin/tokens", json: body)
            if gateway.json { return StandardOutput.print(answer.text) }
            let object = try answer.object()
            StandardOutput.print("Token (shown once; store it now):\n  \(object["token"] as? String ?? "?")\n")
            StandardOutput.print(TokenTable.render([object["details"] as? [String: Any] ?? [:]]))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (GET /api/admin/tokens); never their secrets.")
        @OptionGroup var gateway: GatewayOptions
        @Option(help: "Only this owner's tokens.") var owner: String?

        func run() async throws {
            var path = "/api/admin/tokens"
            if let owner {
                guard let encoded = owner.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) else {
                    throw ValidationError("--owner cannot be sent in a URL")
                }
                path += "?owner=" + encoded
            }
            let answer = try await gateway.client().send("GET", path)
            if gateway.json { return StandardOutput.print(answer.text) }
            StandardOutput.print(TokenTable.render(try answer.object()["tokens"] as? [[String: Any]] ?? []))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token now (DELETE /api/admin/tokens/{id}).")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The token's id (bagbot token list).") var id: String

        func run() async throws {
            let answer = try await gateway.client().send("DELETE", "/api/admin/tokens/" + (try TokenIds.checked(id)))
            if gateway.json { return StandardOutput.print(answer.text) }
            StandardOutput.print(TokenTable.render([try answer.object()]))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a token with a new one (POST /api/admin/tokens/{id}/rotate); the new secret is printed once.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The token's id (bagbot token list).") var id: String
        @Option(help: "Seconds the old token keeps working (0–604800).") var graceSeconds: Int = 0

        func run() async throws {
            let answer = try await gateway.client().send("POST", "/api/admin/tokens/\(try TokenIds.checked(id))/rotate",
                                                         json: ["graceSeconds": graceSeconds])
            if gateway.json { return StandardOutput.print(answer.text) }
            let object = try answer.object()
            StandardOutput.print("New token (shown once; store it now):\n  \(object["token"] as? String ?? "?")\n")
            let previous = object["previous"] as? [String: Any] ?? [:]
            StandardOutput.print(TokenTable.render([object["details"] as? [String: Any] ?? [:], previous]))
        }
    }
}

enum TokenIds {
    /// Token ids are 16 hex digits; anything else would only make a confusing URL.
    static func checked(_ id: String) throws -> String {
        guard (1...64).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isHexDigit) }) else {
            throw ValidationError("a token id is hex digits, as `bagbot token list` shows; got '\(id.prefix(40))'")
        }
        return id
    }
}

/// Where the gateway is and which admin token to use: flags, else the environment, else the `bagbot up` directory.
struct GatewayOptions: ParsableArguments {
    @Option(help: "The gateway's URL (else $BAGBOT_URL, else from --dir's bagbot.yaml, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "File holding an admin token (else $BAGBOT_TOKEN, else --dir's admin.token).")
    var tokenFile: String?

    @Option(help: "The `bagbot up` directory.")
    var dir: String = "./bagbot-run"

    @Flag(help: "Print the gateway's JSON instead of a table.")
    var json = false

    func client() throws -> GatewayClient {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["BAGBOT_URL"] ?? urlFromDirectory() ?? "http://127.0.0.1:8080"
        guard let parsed = URL(string: base), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ValidationError("the gateway URL must be http(s)://host:port, got '\(base)'")
        }
        let token: String
        if let tokenFile {
            token = try Self.read(tokenFile)
        } else if let fromEnvironment = environment["BAGBOT_TOKEN"], !fromEnvironment.isEmpty {
            token = fromEnvironment.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if FileManager.default.fileExists(atPath: dir + "/admin.token") {
            token = try Self.read(dir + "/admin.token")
            if token.isEmpty {
                throw ValidationError("\(dir)/admin.token is empty: `bagbot up` erased the token once the gateway stored it "
                                      + "(--keep-admin-token keeps it); pass --token-file or set BAGBOT_TOKEN")
            }
        } else {
            throw ValidationError("no admin token: pass --token-file, set BAGBOT_TOKEN, or run where `bagbot up` keeps \(dir)/admin.token")
        }
        guard APITokenFormat.looksValid(token) else {
            throw ValidationError("the admin token is not a BAGBOT token (mistyped or cut short?)")
        }
        return GatewayClient(base: base.hasSuffix("/") ? String(base.dropLast()) : base, token: token)
    }

    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// `gateway.host` and `gateway.port` of the directory's bagbot.yaml, when it names them.
    func urlFromDirectory() -> String? {
        let path = dir + "/bagbot.yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let tree = try? ConfigLoader.parse(yaml: text, file: path),
              let gateway = tree["gateway"] as? [String: Any],
              gateway["port"] != nil || gateway["host"] != nil
        else { return nil }
        let host = gateway["host"] as? String ?? "127.0.0.1"
        let port = gateway["port"] as? Int ?? 8080
        return "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
    }
}

/// One request to the gateway's admin API; an error answer becomes the gateway's code and message, exit status 1.
struct GatewayClient {
    let base: String
    let token: String

    struct Answer {
        let status: Int
        let text: String

        func object() throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                StandardError.write("bagbot: the gateway answered something that is not a JSON object: \(text.prefix(200))\n")
                throw ExitCode(1)
            }
            return object
        }
    }

    /// `changesState`: a control command (pause, resume, lock, unlock) whose effect can outlive a wait given up on,
    /// so it waits longer than the gateway does (`gateway.control_timeout_ms`, at most 50 s) and, without an answer,
    /// says the change may still take effect rather than that it failed.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil, changesState: Bool = false) async throws -> Answer {
        guard let url = URL(string: base + path) else { throw ValidationError("bad URL \(base + path)") }
        var request = URLRequest(url: url, timeoutInterval: changesState ? 60 : 10)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch let error as URLError where changesState && [.timedOut, .networkConnectionLost].contains(error.code) {
            StandardError.write("bagbot: no answer from the gateway at \(base) (\(error.localizedDescription)); "
                                + "the change may still take effect; check `bagbot status`\n")
            throw ExitCode(1)
        } catch {
            StandardError.write("bagbot: cannot reach the gateway at \(base): \(error.localizedDescription)\n")
            throw ExitCode(1)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        guard (200..<300).contains(status) else {
            let detail = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any]
            let code = detail?["code"] as? String ?? "http_\(status)"
            let message = detail?["message"] as? String ?? text.prefix(200).description
            StandardError.write("bagbot: \(status) \(code): \(message)\n")
            throw ExitCode(1)
        }
        return Answer(status: status, text: text)
    }
}

/// Tokens as an aligned table.
enum TokenTable {
    static let columns: [(title: String, key: String)] = [
        ("ID", "id"), ("PREFIX", "prefix"), ("OWNER", "owner"), ("ROLE", "role"), ("TIER", "tier"), ("STATE", "state"),
        ("CREATED", "createdAt"), ("EXPIRES", "expiresAt"), ("ENDS", "revokedAt"), ("LAST USED", "lastUsedAt"),
    ]

    static func render(_ rows: [[String: Any]]) -> String {
        if rows.isEmpty { return "(no tokens)" }
        let cells = rows.map { row in columns.map { column in (row[column.key] as? String).map(shortDate) ?? "-" } }
        let widths = columns.indices.map { index in max(columns[index].title.count, cells.map { $0[index].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(columns.map(\.title))] + cells.map(line)).joined(separator: "\n")
    }

    /// `2030-03-17T17:46:40Z` → `2030-03-17 17:46Z`; anything else unchanged.
    static func shortDate(_ text: String) -> String {
        guard text.count == 20, text.hasSuffix("Z"), text.dropFirst(10).first == "T" else { return text }
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + "Z"
    }
}
