import BagbotDomain

/// The bodies of access and operations: the error body, tokens, subscriptions, usage, `/healthz` and the admin
/// status, as the gateway's own types encode them.
extension OpenAPIComponents {
    static let tier = OpenAPISchema.choice(Tier.allCases.map(\.rawValue))
    static let owner = OpenAPISchema.string("1–64 letters, digits and `. _ @ -`.", pattern: "^[A-Za-z0-9._@-]{1,64}$")
    static let secret = OpenAPISchema.string("The token itself, shown this once.", pattern: "^bgb_[A-Za-z0-9_-]{49}$")

    static let accessSchemas: [String: OpenAPISchema] = [
        "Error": .object("Every error the API returns.", required: [
            "error": .object(required: [
                "code": .string("Stable, for machines (docs/api.md, \"Errors\")."),
                "message": .string("For people; its wording may change."),
            ]),
        ]),
        "Token": .object("A token's public facts and its state now; never the secret.", required: [
            "id": .string(), "prefix": .string("`bgb_` and the next 6 characters, for recognising a token."), "owner": owner,
            "role": .choice(TokenRole.allCases.map(\.rawValue)), "tier": .string("The tier written on the token."),
            "state": .choice([TokenState.active, .inGracePeriod, .revoked, .expired].map(\.rawValue)),
            "createdAt": .dateTime(),
        ], optional: [
            "expiresAt": .dateTime(), "revokedAt": .dateTime("When it stops (or stopped) working; after a rotation, the grace period's end."),
            "lastUsedAt": .dateTime("Written with the usage log, so up to `gateway.usage.flush_interval_ms` behind."),
            "rotatedTo": .string("The id of its successor."),
        ]),
        "TokenList": .object(required: ["tokens": .array(.ref("Token"))]),
        "IssuedToken": .object(required: ["token": secret, "details": .ref("Token")]),
        "RotatedToken": .object(required: ["token": secret, "details": .ref("Token"), "previous": .ref("Token")]),
        "Limits": .object("What the rate limiter applies to the owner.", required: [
            "perMinute": .integer("Requests admitted in any 60 seconds.", minimum: 1),
            "perDay": .integer("Requests admitted per UTC day; 0: no daily cap.", minimum: 0),
            "readOnly": .boolean("Only GET and HEAD outside `/api/subscription` and `/api/admin`."),
        ]),
        "LimitOverrides": .object("One subscription's departures from its tier's limits.", optional: [
            "perMinute": .integer(minimum: TierLimits.perMinuteRange.lowerBound, maximum: TierLimits.perMinuteRange.upperBound),
            "perDay": .integer("0: no daily cap.", minimum: TierLimits.perDayRange.lowerBound, maximum: TierLimits.perDayRange.upperBound),
            "readOnly": .boolean(),
        ]),
        "Subscription": .object(required: ["owner": owner, "tier": tier, "status": .choice(SubscriptionStatus.allCases.map(\.rawValue))],
                                optional: ["overrides": .ref("LimitOverrides")]),
        "SubscriptionView": .object(required: [
            "subscription": .ref("Subscription"), "limits": .ref("Limits").described("The tier's limits with the overrides applied."),
        ]),
        "Me": .object("The calling token, its owner's subscription and today's usage.", required: [
            "owner": owner, "role": .choice(TokenRole.allCases.map(\.rawValue)), "tier": tier,
            "status": .choice(SubscriptionStatus.allCases.map(\.rawValue)), "limits": .ref("Limits"), "token": .ref("Token"),
            "usage": .object(required: [
                "today": .integer("Requests admitted today (UTC), this one included."),
                "remainingThisMinute": .integer(),
                "dayResetsAt": .dateTime("The next 00:00 UTC."),
            ], optional: ["remainingToday": .integer("Absent without a daily cap.")]),
        ], optional: ["overrides": .ref("LimitOverrides")]),
        "UsageReport": .object("The owner's calls by UTC day (newest first) and route pattern.", required: [
            "owner": owner,
            "days": .array(.object(required: [
                "day": .string(format: "date"),
                "counted": .integer("Calls that counted against the quota (all but the 429s)."),
                "routes": .array(.object(required: [
                    "method": .string(), "route": .string("The route pattern, e.g. `/api/admin/tokens/{id}`."),
                    "calls": .integer(), "throttled": .integer("429s."), "errors": .integer("Other 4xx and 5xx."),
                ])),
            ])),
        ]),
        "OwnersUsage": .object("Every owner with a call in the last `days` UTC days, the busiest first.", required: [
            "days": .integer(minimum: 1, maximum: 90),
            "owners": .array(.object(required: [
                "owner": owner,
                "counted": .integer("Calls that counted against the quota (all but the 429s)."),
                "throttled": .integer("429s."), "errors": .integer("Other 4xx and 5xx."),
            ], optional: ["lastCallAt": .dateTime()])),
        ]),
        "CreateTokenRequest": .object(required: ["owner": owner], optional: [
            "tier": tier.described("For an owner without a subscription (default free); an owner who has one keeps its tier."),
            "role": .choice(TokenRole.allCases.map(\.rawValue), "Default user."),
            "expiresInDays": .integer("None: the token does not expire.", minimum: 1, maximum: 3_650),
        ]),
        "PutSubscriptionRequest": .object(required: ["tier": tier], optional: [
            "status": .choice(SubscriptionStatus.allCases.map(\.rawValue), "Default active; a suspended owner's tokens get 403."),
            "overrides": .object("Replaces any stored overrides as a whole; leave it out to clear them. A null or absent field keeps the tier's.",
                                 optional: [
                                     "perMinute": .integer(minimum: TierLimits.perMinuteRange.lowerBound,
                                                           maximum: TierLimits.perMinuteRange.upperBound).orNull,
                                     "perDay": .integer(minimum: TierLimits.perDayRange.lowerBound, maximum: TierLimits.perDayRange.upperBound).orNull,
                                     "readOnly": OpenAPISchema.boolean().orNull,
                                 ]),
        ]),
        "RotateRequest": .object(optional: [
            "graceSeconds": .integer("How long the old token keeps working.", minimum: 0, maximum: TokenStore.maximumGraceSeconds, default: 0),
        ]),
        "ReasonRequest": .object(optional: ["reason": .string()]),
        "SystemHealth": .object("Up or down per process, nothing else.", required: [
            "status": .choice(["ok", "degraded"]),
            "services": .map(.choice(["up", "down"]), "gateway, mindsetd, arsenald, routerd."),
        ]),
        "LogLine": .object("One structured log line.", required: [
            "time": .dateTime(), "level": .choice(LogLine.levels), "component": .string("The logger: `routerd.router`, `gateway.http`…"),
            "message": .string(), "metadata": .map(.string(), "Its fields, as text."),
            "daemon": .choice(LogRoutes.processes, "The process that logged it."),
        ]),
        "LogPage": .object("Recent log lines, newest first.", required: [
            "lines": .array(.ref("LogLine")),
            "unavailable": .array(.choice(LogRoutes.processes), "Processes whose lines are missing: down, or too slow to answer."),
            "capacity": .integer("Lines each process keeps in memory.", minimum: 1),
        ]),
        "SystemStatus": .object("Every process: the gateway itself and each daemon's `health`.", required: [
            "services": .map(.object(required: ["state": .choice(["up", "down"])], optional: [
                "status": .string("Its own report: `ok` or `degraded`."), "version": .string(), "uptimeSeconds": .number(),
                "summary": .string(), "connection": .string("The gateway's connection to it."), "peers": .map(.string()),
                "counters": .map(.string()), "error": .string("Why it is counted down."),
            ])),
        ]),
    ]
}
