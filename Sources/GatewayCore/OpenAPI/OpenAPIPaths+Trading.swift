import BagbotDomain

/// The trading routes: `OrderRoutes`, `StrategyRoutes` and `AccountRoutes`, each answer as their code gives it.
extension OpenAPIDocument {
    static let clientOrderId = OpenAPIParameter.path(
        "clientOrderId", "The order's client order id: 1–36 letters, digits and `_ - . :` (else 400).",
        .string(pattern: #"^[A-Za-z0-9_.:-]{1,36}$"#))
    static let strategyId = OpenAPIParameter.path(
        "id", "A strategy id: 1–64 letters, digits and `_ . -` (else 400).", .string(pattern: #"^[A-Za-z0-9_.-]{1,64}$"#))

    /// `GET /api/orders`'s filters and paging (`OrderQueryParameters`); any other parameter is 400.
    static let orderQuery: [OpenAPIParameter] = [
        .query("symbol", "Only this symbol.", .string(pattern: "^[A-Za-z0-9]{1,32}$")),
        .query("status", "Only orders in this status.", .choice(OrderStatus.allCases.map(\.rawValue))),
        .query("strategy", "Only this strategy's orders; `manual` for the trader's own.", .string(pattern: "^[A-Za-z0-9._:-]{1,64}$")),
        .query("from", "Created at or after (ISO 8601 with a zone, fractions allowed).", .dateTime()),
        .query("to", "Created before; must be after `from`.", .dateTime()),
        .query("cursor", "The `nextCursor` of the previous page, as it came (opaque; else 400).", .string(pattern: "^[A-Za-z0-9_-]{1,200}$")),
        .query("limit", "Orders per page.", .integer(minimum: 1, maximum: 1_000, default: 100)),
    ]

    static let daemonDown = ["daemon_unavailable"]

    static let orderRoutes: [OpenAPIRoute] = [
        OpenAPIRoute(method: .get, path: "/api/orders", operation: .make(
            .anyTier, tag: "orders", id: "listOrders", summary: "routerd's orders, newest first, paged by cursor",
            description: "Newest first, then by client order id descending. Pass `nextCursor` back as `cursor` (same filters) until an "
                + "answer has none; an order placed meanwhile never shifts a page.",
            parameters: orderQuery,
            success: [200: .json("A page of orders.", .ref("OrderPage"))],
            errors: [400: ["bad_request"], 503: daemonDown])),
        OpenAPIRoute(method: .post, path: "/api/orders", operation: .make(
            .writeTier, tag: "orders", id: "placeOrder", summary: "The trader's own market order, through arsenald and mindsetd",
            description: "Safe to retry with the same `Idempotency-Key`: a retry gets the first final answer again (with "
                + "`Idempotent-Replayed: true`) and never places a second order. 504 `order_outcome_unknown` means the order may "
                + "have been placed: retry with the same key or look it up, never send it under a new key (docs/api.md).",
            parameters: [OpenAPIParameter(
                name: PlaceOrder.keyHeader.rawName, location: .header,
                description: "Required: 1–255 visible ASCII characters (a UUID is a good choice). Keys belong to the token's owner; "
                    + "kept 7 days.",
                required: true, schema: .string(pattern: "^[!-~]{1,255}$"))],
            body: .json("The order.", .ref("ManualOrderRequest")),
            success: [201: .json("Placed: routerd recorded it; `order.status` says how far it got.", .ref("ManualOrderAnswer"),
                                 headers: [PlaceOrder.replayedHeader.rawName: .ref(PlaceOrder.replayedHeader.rawName)])],
            errors: [
                400: ["idempotency_key_required", "bad_request", "bad_json", "unknown_field"],
                409: ["order_blocked", "order_not_sent", "idempotency_in_progress", "conflict"],
                422: ["invalid_value", "order_rejected", "idempotency_key_reused"],
                503: daemonDown,
                504: ["order_outcome_unknown"],
            ],
            errorBodies: [409: manualOrderAnswerOrError, 422: manualOrderAnswerOrError, 504: .ref("ManualOrderAnswer")],
            errorHeaders: [409: ["Retry-After": OpenAPIHeader(description: "On `idempotency_in_progress`: seconds before retrying (1).",
                                                              required: false, schema: .integer(minimum: 1))]],
            examples: [400: ["idempotency_key_required": .error(
                "No Idempotency-Key header", code: "idempotency_key_required",
                message: "POST /api/orders needs an Idempotency-Key header (1–255 visible ASCII characters; a UUID is a good choice): "
                    + "with it a retry after a timeout never places a second order")]])),
        readById("/api/orders/{clientOrderId}", clientOrderId, tag: "orders", id: "getOrder", summary: "One order as routerd recorded it",
                 .json("The order.", .ref("Order"))),
        OpenAPIRoute(method: .delete, path: "/api/orders/{clientOrderId}", operation: .make(
            .writeTier, tag: "orders", id: "cancelOrder", summary: "Cancel an order through routerd",
            description: "A token cancels only the manual orders its owner placed with `POST /api/orders`; any other order needs an "
                + "admin token (403 `order_not_yours`, the same whether or not it exists). A 503 may also mean the cancel's outcome is "
                + "being looked up: `GET` the order again.",
            parameters: [clientOrderId],
            success: [200: .json("The order after the venue's answer (normally `cancelled`; `filled` if it filled meanwhile).", .ref("Order"))],
            errors: [400: ["bad_request"], 403: ["order_not_yours"], 404: ["not_found"], 409: ["conflict"],
                     503: daemonDown + ["storage_unavailable"]])),

        daemonRead("/api/strategy", tag: "strategies", id: "listStrategies", summary: "Every registered strategy, enabled or not",
                   .json("arsenald's registry.", .ref("StrategyList"))),
        readById("/api/strategy/{id}", strategyId, tag: "strategies", id: "getStrategy", summary: "One strategy",
                 .json("The strategy.", .ref("Strategy"))),
        strategySwitch("enable"),
        strategySwitch("disable"),
        OpenAPIRoute(method: .put, path: "/api/strategy/{id}/parameters", operation: .make(
            .writeTier, tag: "strategies", id: "setStrategyParameters", summary: "Set parameters, all or none",
            parameters: [strategyId],
            body: .json("Parameter name → value, e.g. `{\"entry_z\": 2.5}`.", .ref("StrategyParameters")),
            success: [200: .json("The strategy, the parameters set with `source: runtime`.", .ref("Strategy"))],
            errors: [400: ["bad_request", "bad_json"], 404: ["not_found"],
                     422: ["invalid_value"], 503: daemonDown])),
        readById("/api/strategy/{id}/performance", strategyId, tag: "strategies", id: "getStrategyPerformance",
                 summary: "A strategy's results from routerd's fills", .json("The strategy's performance.", .ref("Performance"))),

        daemonRead("/api/positions", tag: "account", id: "listPositions", summary: "routerd's positions per venue and symbol",
                   .json("The positions.", .ref("PositionList"))),
        daemonRead("/api/account", tag: "account", id: "getAccount", summary: "The account in one currency",
                   .json("routerd's account summary.", .ref("Account"))),
        daemonRead("/api/account/equity", tag: "account", id: "getEquityHistory", summary: "The account's equity curve",
                   .json("routerd's equity samples, oldest first.", .ref("EquityHistory")),
                   parameters: [.query("range", "`day`: since the daily reset, a point a minute; `month`: 30 days, a point an hour.",
                                       .choice(EquityHistoryQuery.Range.allCases.map(\.rawValue)))],
                   errors: [400: ["bad_request"]]),
        daemonRead("/api/fills", tag: "orders", id: "listFills", summary: "routerd's fills, newest first, paged by sequence",
                   .json("A page of fills.", .ref("FillPage")),
                   parameters: [
                       .query("symbol", "Only this symbol.", .string(pattern: "^[A-Za-z0-9]{1,32}$")),
                       .query("strategy", "Only this strategy's fills; `manual` for the trader's own.", .string(pattern: "^[A-Za-z0-9._:-]{1,64}$")),
                       .query("order", "Only this order's fills (its client order id).", .string(pattern: "^[A-Za-z0-9_.:-]{1,36}$")),
                       .query("before", "The `nextBefore` of the previous page.", .integer(minimum: 1)),
                       .query("limit", "Fills per page.", .integer(minimum: 1, maximum: 1_000, default: 100)),
                   ],
                   errors: [400: ["bad_request"]]),
        daemonRead("/api/mindset", tag: "account", id: "getMindset", summary: "mindsetd's state", .json("The mindset's state.", .ref("Mindset"))),
        OpenAPIRoute(method: .post, path: "/api/mindset/lockout", operation: .make(
            .writeTier, tag: "account", id: "selfLockout", summary: "The trader's own lockout: no entries until `until`",
            description: "Nobody can lift it early; it can be extended, never shortened; exits still pass.",
            body: .json("Until when, and why.", .ref("LockoutRequest")),
            success: [200: .json("The mindset's state with `selfLockoutUntil` and `selfLockoutReason`.", .ref("Mindset"))],
            errors: [400: ["bad_request", "bad_json", "unknown_field"], 409: ["conflict"], 422: ["invalid_value"], 503: daemonDown])),
    ]

    /// A read of what a daemon holds, open to every tier: 503 while the daemon is down.
    static func daemonRead(_ path: String, tag: String, id: String, summary: String, _ success: OpenAPIResponse,
                           parameters: [OpenAPIParameter] = [], errors: [Int: [String]] = [:]) -> OpenAPIRoute {
        OpenAPIRoute(method: .get, path: path, operation: .make(
            .anyTier, tag: tag, id: id, summary: summary, parameters: parameters, success: [200: success],
            errors: errors.merging([503: daemonDown]) { own, _ in own }))
    }

    /// The same for one thing by an id the route checks first: 400 for an id not of its form, 404 for none such.
    static func readById(_ path: String, _ parameter: OpenAPIParameter, tag: String, id: String, summary: String,
                         _ success: OpenAPIResponse) -> OpenAPIRoute {
        daemonRead(path, tag: tag, id: id, summary: summary, success, parameters: [parameter],
                   errors: [400: ["bad_request"], 404: ["not_found"]])
    }

    /// A manual order's outcome answer, or a plain error.
    static let manualOrderAnswerOrError = OpenAPISchema(anyOf: [.ref("ManualOrderAnswer"), .ref("Error")])

    static func strategySwitch(_ action: String) -> OpenAPIRoute {
        OpenAPIRoute(method: .post, path: "/api/strategy/{id}/\(action)", operation: .make(
            .writeTier, tag: "strategies", id: "\(action)Strategy", summary: "\(action.prefix(1).uppercased() + action.dropFirst()) a strategy",
            description: "Saved across restarts. No body, or `{}`.",
            parameters: [strategyId],
            body: .json("Nothing, or `{}`.", .object(), required: false),
            success: [200: .json("The strategy after the change.", .ref("Strategy"))],
            errors: [400: ["bad_request", "bad_json", "unknown_field"], 404: ["not_found"], 503: daemonDown]))
    }
}
