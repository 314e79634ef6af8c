import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `GET /openapi.json` stays true: it lists exactly what Hummingbird's router serves, it is valid OpenAPI 3.1
/// (openapi-spec-validator, in the peers' venv), and real answers of the routes match its schemas, codes and
/// examples (Tests/Peers/check_openapi.py).
@Suite("OpenAPI document")
struct OpenAPITests {
    /// The served document, as JSON objects.
    static func document(_ client: some TestClientProtocol) async throws -> [String: Any] {
        let response = try await client.call(.get, "/openapi.json")
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        return try response.json()
    }

    /// Every documented operation as "METHOD /path".
    static func operations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        return Set(paths.flatMap { path, item in item.keys.map { "\($0.uppercased()) \(path)" } })
    }

    /// A router path with its parameters in OpenAPI's form, whether Hummingbird writes them `{id}` or `:id`.
    static func normalised(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }

    @Test("the document lists exactly the routes Hummingbird's router serves, with the same methods")
    func routesMatchTheRouter() async throws {
        let h = try APIHarness()
        let router = GatewayRoutes.build(environment: h.environment)
        let app = Application(router: router, services: [h.usage], logger: quietLogger)
        // Every (path, method) the router has a responder for, as Hummingbird lists them (`Router.routes`, read once
        // the application has built its responder): the routes, HEAD for every GET, and the 405 answers for the other
        // methods of each path. A probe tells the 405s apart by what they answer; each probe has an admin token of its
        // own, since some routes revoke the caller's.
        let registered = router.routes.map { (Self.normalised($0.path.description), $0.method) }
        let (documented, probed) = try await app.test(.router) { client async throws -> (Set<String>, [String: Bool]) in
            let documented = try Self.operations(try await Self.document(client))
            var probed: [String: Bool] = [:]
            for (path, method) in registered {
                let filled = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "probe1", options: .regularExpression)
                let token = try await h.token(owner: "root", tier: .enterprise, role: .admin)
                let response = try await client.call(method, filled, token: token)
                let refused = response.status == .methodNotAllowed && (method == .head || response.errorCode == "method_not_allowed")
                probed["\(method.rawValue) \(path)"] = !refused
            }
            return (documented, probed)
        }
        let served = Set(probed.filter { $0.value && !$0.key.hasPrefix("HEAD ") }.keys)
        #expect(served.count >= 30, "the router lists its routes: \(served.sorted())")
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        // HEAD is served for exactly the GETs (`autoGenerateHeadEndpoints`), as the document's overview says.
        let heads = Set(probed.filter { $0.value && $0.key.hasPrefix("HEAD ") }.keys.map { $0.dropFirst(5) })
        let gets = Set(served.filter { $0.hasPrefix("GET ") }.map { $0.dropFirst(4) })
        #expect(heads == gets)
        // One entry per operation in the Swift data (a second would silently replace the first in `paths`).
        let routes = OpenAPIDocument.routes.map { "\($0.method.rawValue) \($0.path)" }
        #expect(Set(routes).count == routes.count, "an operation is listed twice")
    }

    @Test("the document is valid OpenAPI 3.1 (openapi-spec-validator), public, versioned, with money as decimal strings")
    func validOpenAPI() async throws {
        let h = try APIHarness()
        let document = try await h.app.test(.router) { client async throws in try await Self.document(client) }
        #expect(document["openapi"] as? String == "3.1.0")
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["title"] as? String == "BAGBOT")
        #expect(info["version"] as? String == BagbotVersion.current)
        let bearer = (document["components"] as? [String: Any]).flatMap { $0["securitySchemes"] as? [String: Any] }?["bearer"] as? [String: Any]
        #expect(bearer?["type"] as? String == "http")
        #expect(bearer?["scheme"] as? String == "bearer")
        // Every /api operation names the bearer scheme; the public ones none.
        for (path, item) in try #require(document["paths"] as? [String: [String: [String: Any]]]) {
            for (method, operation) in item {
                let security = operation["security"] as? [[String: [String]]]
                // The document describes the default settings, where /metrics needs no token (from this machine).
                let open = GatewayEnvironment.publicPaths.contains(path) || path == MetricsRoutes.path
                let expected: [[String: [String]]] = open ? [] : [["bearer": []]]
                #expect(security == expected, "\(method) \(path): \(String(describing: security))")
                for (status, response) in operation["responses"] as? [String: [String: Any]] ?? [:] where response["$ref"] == nil {
                    let description = response["description"] as? String ?? ""
                    #expect(description.first?.isLetter == true, "\(method) \(path) \(status) is described: '\(description)'")
                }
            }
        }
        let moneyFields = Self.moneyFields(in: document)
        #expect(moneyFields.count > 40, "the walk finds the money fields: \(moneyFields.count)")
        for (where_, schema) in moneyFields {
            #expect(schema["type"] as? String == "string" && schema["pattern"] != nil, "\(where_) is money: a decimal string, \(schema)")
        }

        let dir = try TempDir()
        let spec = dir.file("openapi.json")
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: spec))
        let (status, output) = try await TestPeers.run("check_openapi.py", [spec])
        #expect(status == 0, "\(output)")
    }

    /// Every property schema whose name is an amount of money (price, quantity, P&L, equity, fees…), where it is.
    static func moneyFields(in value: Any, at place: String = "") -> [(String, [String: Any])] {
        let money = #"(?i)(price|quantity|pnl|equity|cash|fee|exposure|volume|notional|balance|^free$|^locked$|^rate$|drawdown|gross|limit$|peak|expectancy|^position$)"#
        var found: [(String, [String: Any])] = []
        if let object = value as? [String: Any] {
            if let properties = object["properties"] as? [String: Any] {
                for (name, schema) in properties {
                    guard let schema = schema as? [String: Any], name.range(of: money, options: .regularExpression) != nil,
                          schema["$ref"] == nil, schema["type"] as? String != "array", schema["type"] as? String != "object" else { continue }
                    found.append(("\(place).\(name)", schema))
                }
            }
            for (key, child) in object { found += moneyFields(in: child, at: "\(place)/\(key)") }
        } else if let array = value as? [Any] {
            for (index, child) in array.enumerated() { found += moneyFields(in: child, at: "\(place)/\(index)") }
        }
        return found
    }
}
