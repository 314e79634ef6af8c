/// A subscriber's tier (DESIGN §6). The set is fixed; each tier's limits come from `gateway.tiers`.
public enum Tier: String, Codable, Sendable, CaseIterable {
    case free, pro, enterprise

    static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// What one tier, or one subscription after its overrides, may do.
public struct TierLimits: Codable, Sendable, Equatable {
    /// Requests admitted in any 60 seconds (a sliding window).
    public var perMinute: Int
    /// Requests admitted per UTC day; 0 means no daily cap.
    public var perDay: Int
    /// A read-only subscription may only read: any other method outside `/api/subscription` and `/api/admin` is 403.
    public var readOnly: Bool

    public init(perMinute: Int, perDay: Int, readOnly: Bool) {
        self.perMinute = perMinute
        self.perDay = perDay
        self.readOnly = readOnly
    }

    /// Bounds that keep the limiter's memory small (one timestamp per request admitted in the last minute).
    static let perMinuteRange = 1...100_000
    static let perDayRange = 0...1_000_000_000

    /// The first setting out of bounds, as a snake_case key and a reason; nil when all are in bounds.
    var problem: (key: String, reason: String)? {
        if !Self.perMinuteRange.contains(perMinute) { return ("per_minute", "must be 1…100000, got \(perMinute)") }
        if !Self.perDayRange.contains(perDay) { return ("per_day", "must be 0 (no daily cap)…1000000000, got \(perDay)") }
        return nil
    }

    func applying(_ overrides: LimitOverrides?) -> TierLimits {
        guard let overrides else { return self }
        return TierLimits(perMinute: overrides.perMinute ?? perMinute, perDay: overrides.perDay ?? perDay,
                          readOnly: overrides.readOnly ?? readOnly)
    }
}

/// One subscription's departures from its tier's limits, stored as JSON in `subscriptions.limit_overrides`.
public struct LimitOverrides: Codable, Sendable, Equatable {
    public var perMinute: Int?
    public var perDay: Int?
    public var readOnly: Bool?

    public init(perMinute: Int? = nil, perDay: Int? = nil, readOnly: Bool? = nil) {
        self.perMinute = perMinute
        self.perDay = perDay
        self.readOnly = readOnly
    }

    var isEmpty: Bool { perMinute == nil && perDay == nil && readOnly == nil }

    /// Why these overrides cannot be stored, or nil.
    var problem: String? {
        if let perMinute, !TierLimits.perMinuteRange.contains(perMinute) { return "overrides.perMinute must be 1…100000" }
        if let perDay, !TierLimits.perDayRange.contains(perDay) { return "overrides.perDay must be 0 (no daily cap)…1000000000" }
        return nil
    }
}
