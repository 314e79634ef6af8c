import BagbotDomain

/// The bodies of `GET /api/signals` and the JSON of each `GET /api/events` event kind.
extension OpenAPIComponents {
    static let eventSchemas: [String: OpenAPISchema] = [
        "SignalRecord": .object("A signal arsenald proposed and what came of it so far.", required: [
            "sequence": .integer("Counts arsenald's signals since it started; newest is highest.", minimum: 1),
            "recordedAt": .dateTime("When arsenald recorded it (its clock); `since` compares with this."),
            "signal": .ref("Signal"),
            "outcome": .choice(SignalOutcome.allCases.map(\.rawValue),
                               "`pending` (mindsetd not answered yet), `approved` (on its way to routerd), `blocked` (see `decision`), "
                               + "`below_minimum`, `not_sent` (see `detail`), `placed` (see `clientOrderId`, `orderStatus`), `unknown` "
                               + "(sent, routerd's answer not known: looked up)."),
        ], optional: [
            "decision": .ref("MindsetDecision").described("mindsetd's answer: size multiplier, reasons and their codes. An exit's is "
                                                         + "arsenald's own approval (exits go straight to routerd)."),
            "clientOrderId": .string("The order, once sent: `GET /api/orders/{clientOrderId}`."),
            "orderStatus": .choice(OrderStatus.allCases.map(\.rawValue), "routerd's status of the order when it answered."),
            "detail": .string("Why it was not sent, or why the venue rejected the order."),
        ]),
        "SignalPage": .object("One page of recent signals, newest first.", required: [
            "signals": .array(.ref("SignalRecord")),
            "capacity": .integer("How many signals arsenald keeps, in memory: the oldest go first, and a restart empties it."),
        ], optional: [
            "nextCursor": .string("Present when more signals match: pass it back as `cursor`, with the same filters.",
                                  pattern: "^[A-Za-z0-9_-]+$"),
        ]),
        "Tick": .object("A `tick` event: routerd's market data, sampled (`gateway.events.ticks_per_second` per symbol).", required: [
            "symbol": .string(), "time": .dateTime(), "bid": .decimal(), "ask": .decimal(), "last": .decimal(), "volume": .decimal(),
            "sequence": .integer(minimum: 0), "source": .string(),
        ]),
        "Fill": .object("A `fill` event: one execution as routerd recorded it.", required: [
            "fillId": .string(), "clientOrderId": .string(), "venue": venue, "symbol": .string(), "side": side,
            "quantity": .decimal(), "price": .decimal(), "fee": .signedDecimal(), "time": .dateTime(),
        ], optional: [
            "baseCommission": .decimal(), "strategyId": .string(), "requestId": .string(), "sequence": .integer(minimum: 1),
        ]),
        "DecisionEvent": .object("A `decision` event: a signal and mindsetd's answer.", required: ["signal": .ref("Signal")],
                                 optional: ["decision": .ref("MindsetDecision")]),
        "MindsetTransition": .object("A `mindset_state` event: one of mindsetd's emotion-state transitions.", required: [
            "from": .string(), "to": .string(), "reason": .string(), "at": .dateTime(),
        ], open: true),
        "DaemonNotice": .object("A `daemon_down` or `daemon_up` event: the gateway lost, or regained, a daemon's events.", required: [
            "daemon": .choice(["mindsetd", "arsenald", "routerd"]), "at": .dateTime(), "message": .string(),
        ]),
        "MissedNotice": .object("The `missed` notice (no `id:`): `Last-Event-ID` was older than the buffer or not this gateway's.", required: [
            "lastEventId": .integer(minimum: 0), "firstAvailableId": .integer(minimum: 0), "message": .string(),
        ]),
    ]
}
