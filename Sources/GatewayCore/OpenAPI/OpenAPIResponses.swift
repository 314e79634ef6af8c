import HTTPTypes
import BagbotDomain

/// Who may call an operation, and so which of the middleware's refusals it can answer (docs/api.md, "The
/// middleware, on every request").
enum OpenAPIAccess {
    /// No token (`GatewayEnvironment.publicPaths`).
    case open
    /// Any valid token, every tier (reads).
    case anyTier
    /// Any valid token, writes included: `/api/subscription`, where a Free subscriber may still rotate or revoke.
    case ownToken
    /// A tier that may write (Free: 403 `tier_read_only`).
    case writeTier
    /// An admin token (any other: 403 `admin_required`).
    case admin
    /// The Enterprise tier or an admin token (any other: 403 `tier_forbidden`): the event stream.
    case streamTier

    var needsToken: Bool { self != .open }

    /// The 403 codes the middleware and the admin group can answer.
    var forbidden: [String] {
        switch self {
        case .open: []
        case .anyTier, .ownToken: ["subscription_suspended", "tier_unknown"]
        case .writeTier: ["tier_read_only", "subscription_suspended", "tier_unknown"]
        case .admin: ["admin_required", "subscription_suspended", "tier_unknown"]
        case .streamTier: ["tier_forbidden", "subscription_suspended", "tier_unknown"]
        }
    }
}

extension OpenAPIOperation {
    /// One operation with every answer it can give: `success`, the route's own `errors` (status → codes), and
    /// those of the middleware in front of it (a non-canonical path, the token, the tier or role, the rate limit,
    /// the stores, a body too large), so that no operation repeats them.
    static func make(_ access: OpenAPIAccess, tag: String, id: String, summary: String, description: String? = nil,
                     parameters: [OpenAPIParameter] = [], body: OpenAPIRequestBody? = nil,
                     success: [Int: OpenAPIResponse], errors: [Int: [String]] = [:],
                     errorBodies: [Int: OpenAPISchema] = [:], errorHeaders: [Int: [String: OpenAPIHeader]] = [:],
                     examples: [Int: [String: OpenAPIExample]] = [:]) -> OpenAPIOperation {
        var codes = errors
        codes[400] = ["non_canonical_path"] + (codes[400] ?? [])
        if access.needsToken {
            codes[403] = (codes[403] ?? []) + access.forbidden
            codes[503] = (codes[503] ?? []) + ["storage_unavailable"]
        }
        var responses: [String: OpenAPIResponse] = [:]
        for (status, response) in success {
            var response = response
            if access.needsToken { response.headers = (response.headers ?? [:]).merging(OpenAPIComponents.rateLimitHeaders) { own, _ in own } }
            responses[String(status)] = response
        }
        for (status, list) in codes {
            var unique: [String] = []
            for code in list where !unique.contains(code) { unique.append(code) }
            responses[String(status)] = .error(status, codes: unique, body: errorBodies[status] ?? .ref("Error"),
                                               headers: errorHeaders[status], examples: examples[status])
        }
        responses["500"] = .ref("InternalError")
        if access.needsToken {
            responses["401"] = .ref("Unauthorized")
            responses["429"] = .ref("RateLimited")
        }
        if body != nil { responses["413"] = .ref("PayloadTooLarge") }
        return OpenAPIOperation(tags: [tag], summary: summary, description: description, operationId: id,
                                security: access.needsToken ? [["bearer": []]] : [],
                                parameters: parameters.isEmpty ? nil : parameters, requestBody: body, responses: responses)
    }
}

extension OpenAPIResponse {
    static let jsonType = "application/json"

    /// A JSON body.
    static func json(_ description: String, _ schema: OpenAPISchema, headers: [String: OpenAPIHeader]? = nil,
                     examples: [String: OpenAPIExample]? = nil) -> OpenAPIResponse {
        OpenAPIResponse(description: description, headers: headers, content: [jsonType: OpenAPIMediaType(schema: schema, examples: examples)])
    }

    /// The reason phrases of the error statuses (HTTPTypes has them on its named statuses only).
    static let reasons: [Int: String] = Dictionary(uniqueKeysWithValues: [
        HTTPResponse.Status.badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .conflict, .contentTooLarge,
        .unprocessableContent, .tooManyRequests, .internalServerError, .serviceUnavailable, .gatewayTimeout,
    ].map { (Int($0.code), $0.reasonPhrase) })

    /// An error answer: `{"error":{"code","message"}}` (or `body`, which carries `error` too) with one of `codes`.
    static func error(_ status: Int, codes: [String], body: OpenAPISchema = .ref("Error"), headers: [String: OpenAPIHeader]? = nil,
                      examples: [String: OpenAPIExample]? = nil) -> OpenAPIResponse {
        return json("\(reasons[status] ?? "Error"): " + codes.map { "`\($0)`" }.joined(separator: ", "), .error(codes: codes, body: body),
                    headers: headers, examples: examples)
    }
}

extension OpenAPIExample {
    /// The API's error body with this code and message.
    static func error(_ summary: String, code: String, message: String) -> OpenAPIExample {
        OpenAPIExample(summary: summary, value: .object(["error": .object(["code": .string(code), "message": .string(message)])]))
    }
}

extension OpenAPIRequestBody {
    /// A JSON object body; `required: false` when the route also takes none.
    static func json(_ description: String, _ schema: OpenAPISchema, required: Bool = true) -> OpenAPIRequestBody {
        OpenAPIRequestBody(description: description, required: required,
                           content: [OpenAPIResponse.jsonType: OpenAPIMediaType(schema: schema)])
    }
}

extension OpenAPIParameter {
    static func path(_ name: String, _ description: String, _ schema: OpenAPISchema = .string()) -> OpenAPIParameter {
        OpenAPIParameter(name: name, location: .path, description: description, required: true, schema: schema)
    }

    static func query(_ name: String, _ description: String, _ schema: OpenAPISchema) -> OpenAPIParameter {
        OpenAPIParameter(name: name, location: .query, description: description, required: false, schema: schema)
    }
}
