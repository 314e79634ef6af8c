import BagbotDomain

/// The system: the public `/healthz` and `/openapi.json`, and the admin control of `AdminControlRoutes`.
extension OpenAPIDocument {
    /// pause, resume, lock and unlock: a call given up on may still take effect (504 `outcome_unknown`).
    static let controlErrors: [Int: [String]] = [
        400: ["bad_request", "bad_json", "unknown_field"], 409: ["conflict"], 503: ["daemon_unavailable"], 504: ["outcome_unknown"],
    ]

    static let systemRoutes: [OpenAPIRoute] = [
        OpenAPIRoute(method: .get, path: "/healthz", operation: .make(
            .open, tag: "system", id: "health", summary: "Up or down per process; no token",
            description: "A daemon is up when it answers `health` within 1 s.",
            success: [200: .json("Every process is up.", .ref("SystemHealth")),
                      503: .json("A process is down (`status: degraded`).", .ref("SystemHealth"))])),
        OpenAPIRoute(method: .get, path: "/openapi.json", operation: .make(
            .open, tag: "system", id: "openAPI", summary: "This document; no token",
            success: [200: .json("The OpenAPI 3.1 document of this gateway.", .object(open: true))])),

        OpenAPIRoute(method: .get, path: "/metrics", operation: .make(
            .open, tag: "system", id: "metrics", summary: "Prometheus metrics of all four processes",
            description: "Each sample is labelled with its `daemon`; `bagbot_daemon_up` is 0 for a daemon that did not answer "
                + "within 1 s. Who may read it is `gateway.metrics_access`: `loopback` (the default: no token, this machine "
                + "only, else 403), `admin` (an admin token, from anywhere) or `open`.",
            success: [200: OpenAPIResponse(description: "The Prometheus text format, version 0.0.4.", content: [
                "text/plain": OpenAPIMediaType(schema: .string("`# HELP`, `# TYPE` and sample lines.")),
            ])],
            errors: [403: ["metrics_loopback_only"]])),
        OpenAPIRoute(method: .post, path: "/api/admin/pause", operation: .make(
            .admin, tag: "admin", id: "pauseTrading", summary: "Pause trading: routerd refuses new entries",
            description: "Exits, stops and cancels still pass. Survives restarts.",
            body: .json("Optional; the default reason names the admin token.", .ref("ReasonRequest"), required: false),
            success: [200: .json("routerd's switch.", .ref("TradingSwitch"))],
            errors: controlErrors)),
        OpenAPIRoute(method: .post, path: "/api/admin/resume", operation: .make(
            .admin, tag: "admin", id: "resumeTrading", summary: "Resume trading",
            body: .json("Nothing, or `{}`.", .object(), required: false),
            success: [200: .json("routerd's switch.", .ref("TradingSwitch"))],
            errors: controlErrors)),
        OpenAPIRoute(method: .get, path: "/api/logs", operation: .make(
            .admin, tag: "admin", id: "recentLogs", summary: "Recent log lines of all four processes, newest first",
            description: "Each process keeps its last `capacity` lines in memory (the journal keeps everything). A daemon "
                + "that does not answer within 1 s is listed in `unavailable`; the others' lines still come.",
            parameters: [
                .query("level", "This level and the more severe ones.", .choice(LogLine.levels)),
                .query("component", "A logger and those under it (`routerd` takes `routerd.router`).", .string(pattern: "^[A-Za-z0-9._-]{1,64}$")),
                .query("since", "Logged at or after (ISO 8601 with a zone, fractions allowed).", .dateTime()),
                .query("requestId", "Lines about one request: its `hb.request.id` (the gateway's) or `request_id`.",
                       .string(pattern: "^[!-~]{1,128}$")),
                .query("request_id", "Another spelling of `requestId` (the key the lines carry it under); both together must name one id.",
                       .string(pattern: "^[!-~]{1,128}$")),
                .query("daemon", "Only this process.", .choice(LogRoutes.processes)),
                .query("limit", "Lines in all.", .integer(minimum: 1, maximum: LogQuery.maximumLimit, default: 200)),
            ],
            success: [200: .json("The lines.", .ref("LogPage"))],
            errors: [400: ["bad_request"]])),
        OpenAPIRoute(method: .get, path: "/api/admin/status", operation: .make(
            .admin, tag: "admin", id: "systemStatus", summary: "Every process's status, version and counters",
            description: "200 even with a daemon down, which it reports.",
            success: [200: .json("Every process.", .ref("SystemStatus"))])),
        OpenAPIRoute(method: .post, path: "/api/admin/mindset/lock", operation: .make(
            .admin, tag: "admin", id: "lockMindset", summary: "Lock the mindset: no new entries approved",
            description: "An entry approved just before the lock answered can still be placed; to stop orders, pause.",
            body: .json("Why.", .object(required: ["reason": .string(minLength: 1)])),
            success: [200: .json("The mindset's state, `LOCKED`.", .ref("Mindset"))],
            errors: controlErrors.merging([422: ["invalid_value"]]) { $1 })),
        OpenAPIRoute(method: .post, path: "/api/admin/mindset/unlock", operation: .make(
            .admin, tag: "admin", id: "unlockMindset", summary: "Lift an admin lock",
            description: "A limit's lock stays until the daily reset (409); not locked is 409 too.",
            body: .json("Optional reason.", .ref("ReasonRequest"), required: false),
            success: [200: .json("The mindset's state after the unlock.", .ref("Mindset"))],
            errors: controlErrors)),
    ]
}
