import BagbotDomain

/// The trading bodies: orders, positions, the account, strategies, the mindset and the trading switch, as the
/// daemons' types encode them (BagbotDomain). Money is a decimal string throughout.
extension OpenAPIComponents {
    static let side = OpenAPISchema.choice(Side.allCases.map(\.rawValue))
    static let venue = OpenAPISchema.choice(Venue.allCases.map(\.rawValue))

    static let tradingSchemas: [String: OpenAPISchema] = [
        "Order": .object("An order as routerd recorded it.", required: [
            "clientOrderId": .string(pattern: #"^[A-Za-z0-9_.:-]{1,36}$"#),
            "venue": venue,
            "symbol": .string(),
            "side": side,
            "type": .choice(OrderType.allCases.map(\.rawValue)),
            "quantity": .decimal(),
            "status": .choice(OrderStatus.allCases.map(\.rawValue)),
            "filledQuantity": .decimal(),
            "reduceOnly": .boolean("Only ever reduces the position it is against."),
            "createdAt": .dateTime(),
            "updatedAt": .dateTime(),
        ], optional: [
            "limitPrice": .decimal(),
            "averageFillPrice": .decimal(),
            "exchangeOrderId": .string(),
            "strategyId": .string("The strategy that placed it; `manual` for the trader's own orders."),
            "requestId": .string("Follows the trade from tick to fill across the daemons' logs."),
            "rejectReason": .string(),
            "timeInForce": .choice(TimeInForce.allCases.map(\.rawValue), "A limit order's when not `gtc`: `ioc` (what the market reaches at once fills, the rest expires), `fok` (whole at once or expired), `post_only` (refused if it would trade at once)."),
        ]),
        "OrderPage": .object("One page of orders, newest first.", required: ["orders": .array(.ref("Order"))], optional: [
            "nextCursor": .string("Present when more orders match: pass it back as `cursor`, with the same filters.",
                                  pattern: "^[A-Za-z0-9_-]+$"),
        ]),
        "ManualOrderRequest": .object(required: [
            "symbol": .string("1–32 letters, digits and `. / _ -` (upper-cased).", pattern: #"^[A-Za-z0-9./_-]{1,32}$"#),
            "side": side,
            "quantity": .decimal("A positive plain decimal string: digits, at most one point with digits on both sides (\"0.002\"). "
                                 + "Never a JSON number (400), never an exponent or a sign (422)."),
        ], optional: [
            "reduceOnly": .boolean("Only reduce the trader's own (`manual`) position. Default false."),
        ]),
        "ManualOrderAnswer": .object(
            "The answer to a manual order. On an error status `error` is set (with the mindset's `reasons` and `codes` when it "
            + "blocked the order); the outcome fields follow either way.",
            required: [
                "outcome": .choice([ManualOrderResult.Outcome.placed, .blocked, .notSent, .unknown].map(\.rawValue)),
                "clientOrderId": .string("Names the order (`bb-m-…`): retry with the same key, or `GET /api/orders/{clientOrderId}`."),
            ], optional: [
                "error": .object(required: ["code": .string(), "message": .string()],
                                 optional: ["reasons": .array(.string()), "codes": .array(.string())]),
                "order": .ref("Order"),
                "decision": .ref("MindsetDecision"),
                "signal": .ref("Signal"),
                "reason": .string(),
            ]),
        "Signal": .object("The order as arsenald proposed it.", required: [
            "strategyId": .string(), "symbol": .string(), "side": side, "quantity": .decimal(), "price": .decimal(),
            "time": .dateTime(), "strength": .number(), "confidence": .number(), "isEntry": .boolean(), "reason": .string(),
            "requestId": .string(),
        ]),
        "MindsetDecision": .object("mindsetd's judgement of an entry.", required: [
            "approved": .boolean(),
            "sizeMultiplier": .number("Applied to the requested size (0 when blocked)."),
            "approvedQuantity": .decimal(),
            "emotionState": .string(),
            "reasons": .array(.string(), "Every rule that blocked or scaled the order, in words."),
            "codes": .array(.string(), "One code per reason, in the same order (docs/mindset.md, \"Decisions\")."),
        ]),
        "PositionList": .object(required: ["positions": .array(.object(required: [
            "venue": venue, "symbol": .string(),
            "quantity": .signedDecimal("Positive long, negative short."),
            "averagePrice": .decimal(), "realizedPnl": .signedDecimal(),
        ], optional: ["lastPrice": .decimal(), "unrealizedPnl": .signedDecimal()]))]),
        "EquityHistory": .object("The account's equity over time (`router.account.equity_sample_seconds`; kept 35 days).", required: [
            "range": .choice(EquityHistoryQuery.Range.allCases.map(\.rawValue)), "currency": .string(),
            "samples": .array(.object(required: [
                "time": .dateTime(), "equity": .signedDecimal(),
                "complete": .boolean("False when an asset could not be valued then: the equity leaves it out."),
            ])),
        ]),
        "FillPage": .object("One page of fills, newest first.", required: ["fills": .array(.ref("Fill"))], optional: [
            "nextBefore": .integer("Present when more fills match: pass it back as `before`.", minimum: 1),
        ]),
        "Account": .object("The whole account in one currency (routerd's `router.account`).", required: [
            "currency": .string(), "equity": .signedDecimal(), "cash": .signedDecimal(), "realizedPnlToday": .signedDecimal(),
            "feesToday": .signedDecimal(), "unrealizedPnl": .signedDecimal(), "exposure": .decimal(),
            "venues": .array(.object(required: [
                "venue": venue, "equity": .signedDecimal(), "cash": .signedDecimal(), "exposure": .decimal(),
                "balances": .array(.object(required: ["asset": .string(), "free": .signedDecimal(), "locked": .decimal()])),
            ], optional: [
                "connection": .choice(["connected", "disconnected"], "As the venue last reported it; absent until it has."),
                "connectionSince": .dateTime(),
                "ordersHeld": .string("Why new orders to the venue are refused now (cancels and reduce-only orders still go): its order stream down or its orders not yet reconciled, or Binance's order count for the account full."),
                "blocked": .string("Why nothing may be sent to the venue now: \"banned by Binance (HTTP 418) until …\" or \"rate-limited by Binance (HTTP 429) until …\"; absent while requests go."),
            ])),
            "symbols": .array(.object(required: ["venue": venue, "symbol": .string(), "quantity": .signedDecimal()], optional: [
                "exposure": .decimal(), "unrealizedPnl": .signedDecimal(), "realizedPnlToday": .signedDecimal(),
            ])),
            "rates": .array(.object(required: ["asset": .string(), "rate": .decimal(), "via": .string()])),
            "unvalued": .array(.string(), "Assets held that no price values yet: in no figure above."),
            "dayStart": .dateTime(), "tradingEnabled": .boolean(),
        ], optional: ["pausedReason": .string(), "scope": .choice(["paper", "live"], "Which venues the figures count: in live mode not the paper venue."),
                      "shortfalls": .array(.object(required: [
                          "venue": venue, "asset": .string(), "booked": .decimal("The strategies' long positions there, together."),
                          "held": .signedDecimal("What the venue holds (free + locked)."),
                      ]), "A live venue holding less of a coin than the strategies' books: a fill missed, or a withdrawal or trade by hand there."),
                      "marks": .array(.object(required: ["symbol": .string(), "price": .decimal(), "quoteAsset": .string()], optional: [
                          "baseAsset": .string(),
                          "quoteRate": .decimal("One unit of the quote asset in the account's currency; absent while it has no rate."),
                      ]), "Each routed symbol's last price: mindsetd values the strategies' open positions with them.")]),
        "StrategyList": .object(required: ["strategies": .array(.ref("Strategy"))]),
        "Strategy": .object("A registered strategy (arsenald's `StrategyInfo`).", required: [
            "id": .string(), "kind": .string(), "description": .string(), "enabled": .boolean(), "symbols": .array(.string()),
            "baseQuantity": .map(.decimal(), "Order size per symbol before the mindset's scaling."),
            "parameters": .array(.object(required: [
                "name": .string(), "type": .choice(["integer", "number"]), "value": .number(), "defaultValue": .number(),
                "minimum": .number(), "maximum": .number(), "description": .string(), "source": .choice(["default", "config", "runtime"]),
            ]), "Tuning numbers, never money."),
            "positions": .map(.signedDecimal()), "signals": .integer(), "fills": .integer(), "realizedPnl": .signedDecimal(),
            "trades": .integer(), "wins": .integer(),
        ]),
        "StrategyParameters": OpenAPISchema(
            types: ["object"], description: "Parameter name → value, all applied or none (arsenald checks names, types and bounds).",
            additionalProperties: .schema(.init(.number())), minProperties: 1),
        "Performance": .object("arsenald's `PerformanceResponse`, from routerd's whole fill log.", required: [
            "strategies": .array(.object(required: [
                "strategyId": .string(), "trades": .integer(), "wins": .integer(),
                "symbols": .array(.object(required: [
                    "symbol": .string(), "trades": .integer(), "wins": .integer(), "losses": .integer(),
                    "netPnl": .signedDecimal(), "fees": .signedDecimal(), "grossProfit": .decimal(), "grossLoss": .decimal(),
                    "maxDrawdown": .decimal(), "position": .signedDecimal(), "exposure": .signedDecimal(), "volume": .decimal(),
                ], optional: ["winRate": .number(), "profitFactor": .number()])),
            ], optional: ["winRate": .number()])),
            "throughSequence": .integer(), "databaseId": .string(),
        ]),
        "Mindset": .object(
            "mindsetd's state (`mindset.state`) as it sent it, its times in ISO 8601; later fields of mindsetd's may appear.",
            required: [
                "emotionState": .choice(["CALM", "CONFIDENT", "CAUTIOUS", "TILTED", "LOCKED"]),
                "dailyPnl": .signedDecimal(), "trades": .integer(), "wins": .integer(), "losses": .integer(),
                "winStreak": .integer(), "lossStreak": .integer(), "dailyLossLimit": .decimal(), "intradayPeak": .signedDecimal(),
                "giveBackLimit": .decimal(), "decisions": .integer(), "approvals": .integer(),
                "blocksByReason": .map(.integer()),
                "recentTransitions": .array(.object(required: ["from": .string(), "to": .string(), "reason": .string(), "at": .dateTime()])),
                "grades": .object(required: ["overall": .ref("Grade"), "strategies": .map(.ref("Grade"))]),
                "onLocked": .choice(["block", "flatten"]),
                "flattenOrders": .array(.object(required: [
                    "clientOrderId": .string(), "symbol": .string(), "side": side, "quantity": .decimal(), "at": .dateTime(),
                    "outcome": .string(),
                ], optional: ["strategyId": .string()])),
                "flattenStuck": .array(.string()), "countedFillSequence": .integer(),
                "positionsLeftOut": .array(.string(), "Open positions (strategy|symbol) the open positions' measure leaves out: no price or rate, or a coin the venue lacks."),
            ], optional: [
                "lockReason": .string(), "dayStart": .dateTime(), "startOfDayEquity": .signedDecimal(), "equity": .signedDecimal(),
                "judgedPnl": .signedDecimal(), "openPositionsChange": .signedDecimal(), "cooldownUntil": .dateTime(), "revengeWindowUntil": .dateTime(),
                "lastLossNotional": .decimal(), "lastLossSymbol": .string(), "selfLockoutUntil": .dateTime(), "selfLockoutReason": .string(),
            ], open: true),
        "Grade": .object(required: [
            "trades": .integer(), "maxDrawdown": .decimal(), "sizeFactor": .number(), "confidence": .number(),
        ], optional: [
            "grade": .choice(["A", "B", "C", "D", "F"]), "score": .number(), "winRate": .number(), "profitFactor": .number(),
            "expectancy": .signedDecimal(),
        ]),
        "LockoutRequest": .object(required: [
            "until": .dateTime("ISO 8601 with a zone; in the future, within `mindset.max_self_lockout_days`."),
            "reason": .string("1–200 characters.", minLength: 1, maxLength: 200),
        ]),
        "TradingSwitch": .object("routerd's trading switch.", required: ["enabled": .boolean(), "changedAt": .dateTime()],
                                 optional: ["reason": .string()]),
    ]
}
