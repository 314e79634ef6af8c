import BagbotDomain

/// `components` of the document: the bearer scheme, the headers and answers many operations share, and every
/// body's schema (`OpenAPISchemas+Trading.swift`, `OpenAPISchemas+Access.swift`).
enum OpenAPIComponents {
    static let securitySchemes: [String: JSONValue] = [
        "bearer": .object([
            "type": .string("http"),
            "scheme": .string("bearer"),
            "bearerFormat": .string("bgb_ + 49 characters"),
            "description": .string(
                "An API token: `bgb_`, 43 base64url characters (32 random bytes) and a 6-character CRC-32 checksum in base 62 "
                + "(docs/api.md, \"Tokens\"). Sent as `Authorization: Bearer bgb_…`."),
        ]),
    ]

    static let tokenCodes = ["token_missing", "token_malformed", "token_checksum_mismatch", "token_legacy_refused",
                             "token_unknown", "token_expired", "token_revoked"]

    /// The rate-limit fields, on every answer to a token that was admitted past the token check.
    static let rateLimitHeaders: [String: OpenAPIHeader] = Dictionary(uniqueKeysWithValues: [
        RateLimitMiddleware.xLimit, RateLimitMiddleware.xRemaining, RateLimitMiddleware.xReset,
        RateLimitMiddleware.policyField, RateLimitMiddleware.limitField,
    ].map { ($0.rawName, OpenAPIHeader.ref($0.rawName)) })

    static let headers: [String: OpenAPIHeader] = {
        func header(_ description: String, _ schema: OpenAPISchema, required: Bool = true) -> OpenAPIHeader {
            OpenAPIHeader(description: description, required: required, schema: schema)
        }
        let rateLimitNote = " On every answer to an admitted token, errors included (docs/api.md, \"The rate-limit fields\")."
        return [
            RateLimitMiddleware.xLimit.rawName: header(
                "The quota that will refuse first: the one with fewer requests remaining (the minute on a tie)." + rateLimitNote,
                .integer(minimum: 0)),
            RateLimitMiddleware.xRemaining.rawName: header("Requests that quota still admits." + rateLimitNote, .integer(minimum: 0)),
            RateLimitMiddleware.xReset.rawName: header("Seconds (not a time) until that quota admits more." + rateLimitNote, .integer(minimum: 0)),
            RateLimitMiddleware.policyField.rawName: header(
                "Each quota: `q` requests per `w` seconds, e.g. `\"minute\";q=60;w=60, \"day\";q=1000;w=86400` "
                + "(draft-ietf-httpapi-ratelimit-headers-10; no `\"day\"` without a daily cap)." + rateLimitNote, .string()),
            RateLimitMiddleware.limitField.rawName: header(
                "Each quota now: `r` remaining, `t` seconds until more, e.g. `\"minute\";r=12;t=41, \"day\";r=940;t=3600`." + rateLimitNote,
                .string()),
            "Retry-After": header("Seconds until a retry can be admitted.", .integer(minimum: 1)),
            "WWW-Authenticate": header("`Bearer realm=\"bagbot\"`, plus `error=\"invalid_token\"` when a token was sent (RFC 6750).", .string()),
            "Allow": header("The methods the path serves, e.g. `GET, HEAD`.", .string()),
            PlaceOrder.replayedHeader.rawName: header(
                "`true` on an answer given again for a retry with the same `Idempotency-Key`; absent on the first.", .choice(["true"]),
                required: false),
        ]
    }()

    static let responses: [String: OpenAPIResponse] = [
        "Unauthorized": .error(401, codes: tokenCodes, headers: ["WWW-Authenticate": .ref("WWW-Authenticate")], examples: [
            "token_missing": .error("No Authorization field", code: "token_missing", message: "missing Authorization: Bearer <token>"),
        ]),
        "RateLimited": .error(429, codes: ["rate_limited"], headers: rateLimitHeaders.merging(["Retry-After": .ref("Retry-After")]) { $1 },
                              examples: [
                                  "rate_limited": .error("A Free token's 61st request within a minute", code: "rate_limited",
                                                         message: "the per-minute quota of 60 requests is used up; retry in 60 s"),
                              ]),
        "PayloadTooLarge": .error(413, codes: ["payload_too_large"], examples: [
            "payload_too_large": .error("A body over the limit", code: "payload_too_large",
                                        message: "the request body is larger than \(GatewayContext.maximumBodyBytes) bytes"),
        ]),
        "InternalError": .json("Internal Server Error: `internal` (the details are in the gateway's log, never in the answer), "
                               + "`subscription_unreadable`, or a daemon's own error code passed on", .ref("Error")),
        // Not an operation's: what any path the document does not list answers, and any method a listed path does not serve.
        "NoRoute": .error(404, codes: ["not_found"], examples: [
            "no_route": .error("A path no route serves (with a valid token: without one, 401 comes first)", code: "not_found",
                               message: "no route GET /nowhere"),
        ]),
        "MethodNotAllowed": .error(405, codes: ["method_not_allowed"], headers: ["Allow": .ref("Allow")], examples: [
            "method_not_allowed": .error("A method the path does not serve", code: "method_not_allowed",
                                         message: "PATCH is not allowed on /api/subscription/me; allowed: GET, HEAD"),
        ]),
    ]

    static var schemas: [String: OpenAPISchema] {
        tradingSchemas.merging(accessSchemas) { first, _ in first }.merging(eventSchemas) { first, _ in first }
    }
}
