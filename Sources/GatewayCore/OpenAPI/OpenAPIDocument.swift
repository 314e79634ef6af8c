import Foundation
import Hummingbird
import BagbotDomain
import BagbotRuntime

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route the gateway serves, written as Swift data (docs/api.md,
/// "OpenAPI": why Swift and not a JSON file) so that it is built with the binary and names the code's own enums,
/// limits and header names. `OpenAPITests` keeps it true: the routes against the router, the document through
/// openapi-spec-validator, and real answers against its schemas and examples.
enum OpenAPIDocument {
    /// Every operation, from the route modules of the document (`OpenAPIPaths+*.swift`).
    static var routes: [OpenAPIRoute] { systemRoutes + orderRoutes + signalAndEventRoutes + accessRoutes }

    struct Info: Encodable {
        var title = "BAGBOT"
        var version = BagbotVersion.current
        var description = OpenAPIDocument.overview
    }

    struct Tag: Encodable {
        var name: String
        var description: String
    }

    struct Components: Encodable {
        var securitySchemes = OpenAPIComponents.securitySchemes
        var headers = OpenAPIComponents.headers
        var responses = OpenAPIComponents.responses
        var schemas = OpenAPIComponents.schemas
    }

    struct Document: Encodable {
        var openapi = "3.1.0"
        var info = Info()
        var tags: [Tag]
        /// Path → lower-case method → operation.
        var paths: [String: [String: OpenAPIOperation]]
        var components = Components()
    }

    static let tags = [
        Tag(name: "orders", description: "routerd's orders; the trader's manual orders through arsenald (docs/api.md, \"Orders\")."),
        Tag(name: "strategies", description: "arsenald's strategy registry."),
        Tag(name: "account", description: "Positions, the account and the mindset."),
        Tag(name: "signals", description: "arsenald's recent signals and the live event stream (docs/api.md, \"Signals\", \"Events\")."),
        Tag(name: "subscription", description: "A subscriber's own token, subscription and usage, on any tier."),
        Tag(name: "admin", description: "Tokens, subscriptions and control of the running system: admin tokens only."),
        Tag(name: "system", description: "What needs no token."),
    ]

    static let overview = """
        BAGBOT's HTTP API (docs/api.md has the whole story).

        - Every path but `/healthz` and `/openapi.json` needs `Authorization: Bearer bgb_…`, route or not: an unknown path is \
        401 without a token and 404 (`NoRoute`) with one. A method a listed path does not serve is 405 with `Allow` \
        (`MethodNotAllowed`). `HEAD` is served for every `GET`.
        - A path in non-canonical form (an empty, `.` or `..` segment, a percent-encoded `/`, `.`, `\\` or NUL) is 400 \
        `non_canonical_path` before anything else.
        - Money is always an exact decimal **string** ("0.00200"), never a JSON number. Times are ISO 8601 in UTC.
        - Errors are `{"error":{"code":"…","message":"…"}}`; each response lists its codes.
        - Every answer to an admitted token, errors included, carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`, \
        `X-RateLimit-Reset`, `RateLimit-Policy` and `RateLimit` (declared on the 2xx and 429 answers); a refused token's \
        answer has none.
        - Request bodies are JSON objects of at most \(GatewayContext.maximumBodyBytes) bytes with only the fields documented \
        (another is 400 `unknown_field`).
        """

    static var document: Document {
        var paths: [String: [String: OpenAPIOperation]] = [:]
        for route in routes {
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = route.operation
        }
        return Document(tags: tags, paths: paths)
    }

    /// The document's JSON, encoded once (sorted keys, as every API answer).
    static let json: Data? = try? JSONResponse.data(document)

    static func response() throws -> Response {
        guard let json else { throw APIError(.internalServerError, "internal", "the OpenAPI document could not be encoded") }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
