/// Tokens and subscriptions: `SubscriptionRoutes` (a subscriber's own token, any tier) and `AdminRoutes`.
extension OpenAPIDocument {
    static let tokenId = OpenAPIParameter.path("id", "A token's id (`Token.id`).")
    static let bodyErrors = ["bad_request", "bad_json", "unknown_field"]

    static let accessRoutes: [OpenAPIRoute] = [
        OpenAPIRoute(method: .get, path: "/api/subscription/me", operation: .make(
            .ownToken, tag: "subscription", id: "getMe", summary: "The calling token, its subscription and today's usage",
            success: [200: .json("The caller.", .ref("Me"))])),
        OpenAPIRoute(method: .get, path: "/api/subscription/usage", operation: .make(
            .ownToken, tag: "subscription", id: "getUsage", summary: "The owner's calls by UTC day and route",
            description: "Calls appear once their batch is written (within `gateway.usage.flush_interval_ms`).",
            parameters: [.query("days", "Days back, today included.", .integer(minimum: 1, maximum: 90, default: 7))],
            success: [200: .json("The usage.", .ref("UsageReport"))],
            errors: [400: ["bad_request"]])),
        OpenAPIRoute(method: .post, path: "/api/subscription/rotate", operation: .make(
            .ownToken, tag: "subscription", id: "rotateOwnToken", summary: "A new token for the calling one",
            description: "The old token keeps working for `graceSeconds`, then is refused as revoked. A token already rotated cannot "
                + "be rotated again.",
            body: .json("Optional: the grace period.", .ref("RotateRequest"), required: false),
            success: [201: .json("The new token (its secret shown this once) and the old one.", .ref("RotatedToken"))],
            errors: [400: bodyErrors, 409: ["token_already_rotated", "token_revoked", "token_expired"], 422: ["invalid_value"]])),
        OpenAPIRoute(method: .delete, path: "/api/subscription/token", operation: .make(
            .ownToken, tag: "subscription", id: "revokeOwnToken", summary: "Revoke the calling token",
            success: [200: .json("The token, `state: revoked`.", .ref("Token"))],
            errors: [409: ["last_admin_token"]])),

        OpenAPIRoute(method: .post, path: "/api/admin/tokens", operation: .make(
            .admin, tag: "admin", id: "createToken", summary: "A new token for an owner",
            body: .json("The owner and the token's facts.", .ref("CreateTokenRequest")),
            success: [201: .json("The token (its secret shown this once).", .ref("IssuedToken"))],
            errors: [400: bodyErrors, 409: ["tier_conflict"], 422: ["invalid_value"]])),
        OpenAPIRoute(method: .get, path: "/api/admin/tokens", operation: .make(
            .admin, tag: "admin", id: "listTokens", summary: "Every token, or one owner's, oldest first; never a secret",
            parameters: [.query("owner", "Only this owner's tokens (else 422).", OpenAPIComponents.owner)],
            success: [200: .json("The tokens.", .ref("TokenList"))],
            errors: [400: ["bad_request"], 422: ["invalid_value"]])),
        OpenAPIRoute(method: .get, path: "/api/admin/usage", operation: .make(
            .admin, tag: "admin", id: "usageByOwner", summary: "Every subscriber's calls over the last days",
            description: "Calls appear once their batch is written (within `gateway.usage.flush_interval_ms`).",
            parameters: [.query("days", "Days back, today included.", .integer(minimum: 1, maximum: 90, default: 7))],
            success: [200: .json("The usage per owner.", .ref("OwnersUsage"))],
            errors: [400: ["bad_request"]])),
        OpenAPIRoute(method: .delete, path: "/api/admin/tokens/{id}", operation: .make(
            .admin, tag: "admin", id: "revokeToken", summary: "Revoke a token now (one in its grace period too)",
            description: "Revoking a revoked token again answers 200 and changes nothing.",
            parameters: [tokenId],
            success: [200: .json("The token.", .ref("Token"))],
            errors: [404: ["not_found"], 409: ["last_admin_token"]])),
        OpenAPIRoute(method: .post, path: "/api/admin/tokens/{id}/rotate", operation: .make(
            .admin, tag: "admin", id: "rotateToken", summary: "A new token for any token",
            parameters: [tokenId],
            body: .json("Optional: the grace period.", .ref("RotateRequest"), required: false),
            success: [201: .json("The new token (its secret shown this once) and the old one.", .ref("RotatedToken"))],
            errors: [400: bodyErrors, 404: ["not_found"], 409: ["token_already_rotated", "token_revoked", "token_expired"],
                     422: ["invalid_value"]])),
        OpenAPIRoute(method: .put, path: "/api/admin/subscriptions/{owner}", operation: .make(
            .admin, tag: "admin", id: "putSubscription", summary: "Create or replace an owner's subscription",
            description: "The owner's tokens follow at once.",
            parameters: [.path("owner", "The owner (else 422).", OpenAPIComponents.owner)],
            body: .json("The subscription.", .ref("PutSubscriptionRequest")),
            success: [200: .json("Replaced.", .ref("SubscriptionView")), 201: .json("Created.", .ref("SubscriptionView"))],
            errors: [400: bodyErrors, 422: ["invalid_value"]])),
    ]
}
