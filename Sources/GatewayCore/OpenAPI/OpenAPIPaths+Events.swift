import BagbotDomain

/// `SignalRoutes` and `EventRoutes`.
extension OpenAPIDocument {
    /// `GET /api/signals`'s filters and paging (`SignalQueryParameters`); any other parameter is 400.
    static let signalQuery: [OpenAPIParameter] = [
        .query("strategy", "Only this strategy's signals; `manual` for the trader's own orders.", .string(pattern: "^[A-Za-z0-9._:-]{1,64}$")),
        .query("symbol", "Only this symbol.", .string(pattern: "^[A-Za-z0-9]{1,32}$")),
        .query("outcome", "Only signals with this outcome now.", .choice(SignalOutcome.allCases.map(\.rawValue))),
        .query("since", "Recorded at or after (ISO 8601 with a zone, fractions allowed).", .dateTime()),
        .query("cursor", "The `nextCursor` of the previous page, as it came (opaque; else 400; 400 too once arsenald restarted).",
               .string(pattern: "^[A-Za-z0-9_-]{1,200}$")),
        .query("limit", "Signals per page.", .integer(minimum: 1, maximum: 1_000, default: 100)),
    ]

    static let eventStreamDescription = """
        Server-Sent Events. Each event has `id:` (gateway-wide, strictly increasing, also across restarts), `event:` (its \
        kind) and `data:` (one line of JSON): `signal` (`Signal`), `decision` (`DecisionEvent`), `order` (`Order`), `fill` \
        (`Fill`), `mindset_state` (`MindsetTransition`), `tick` (`Tick`, sampled), `daemon_down` and `daemon_up` \
        (`DaemonNotice`). Every connection starts with a `daemons` notice (each daemon `up` or `down`) and, when \
        `Last-Event-ID` is older than the buffer, a `missed` notice (`MissedNotice`); notices carry no `id:`. A \
        `: keep-alive` comment comes every `gateway.events.heartbeat_seconds`. A client whose queue fills \
        (`gateway.events.client_queue_capacity`) is cut off: its connection closes, and it resumes with `Last-Event-ID`.
        """

    static let signalAndEventRoutes: [OpenAPIRoute] = [
        OpenAPIRoute(method: .get, path: "/api/signals", operation: .make(
            .anyTier, tag: "signals", id: "listSignals", summary: "arsenald's recent signals and what came of each, newest first",
            description: "The signals arsenald keeps in memory (the last 1,000: `capacity`; a restart empties them). Pass "
                + "`nextCursor` back as `cursor` (same filters) until an answer has none.",
            parameters: signalQuery,
            success: [200: .json("A page of signals.", .ref("SignalPage"))],
            errors: [400: ["bad_request"], 503: daemonDown])),
        OpenAPIRoute(method: .get, path: "/api/events", operation: .make(
            .streamTier, tag: "signals", id: "streamEvents", summary: "Live events: signals, decisions, orders, fills, mindset, ticks",
            description: "Enterprise tier and admin tokens only. Resume with `Last-Event-ID` (docs/api.md, \"Events\").",
            parameters: [OpenAPIParameter(
                name: EventRoutes.lastEventIdHeader.rawName, location: .header,
                description: "The id of the last event received: the stream goes on after it (else 400 when not a whole number).",
                required: false, schema: .string(pattern: "^[0-9]{1,20}$"))],
            success: [200: OpenAPIResponse(description: eventStreamDescription, content: [
                // OpenAPI 3.1 has no schema for one item of a stream (3.2's `itemSchema`): tools such as schemathesis
                // read `schema` as that of each event, parsed into its fields.
                "text/event-stream": OpenAPIMediaType(schema: .object(
                    "One event: its `event:`, `data:` and `id:` lines; a blank line ends it.",
                    required: ["event": .string("Its kind (the list above)."), "data": .string("A JSON object, on one line.")],
                    optional: ["id": .string("Its position in the stream, for `Last-Event-ID`.", pattern: "^[0-9]{1,20}$"),
                               "retry": .integer(minimum: 0)])),
            ])],
            errors: [400: ["bad_request"], 503: ["events_unavailable", "too_many_streams"]])),
    ]
}

