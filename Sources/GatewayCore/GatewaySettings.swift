import BagbotRuntime

/// The `gateway:` section of `bagbot.yaml`: where the HTTP API listens, its first admin token, the tiers'
/// limits, and how usage is recorded.
public struct GatewaySettings: ConfigSection {
    public static let key = "gateway"
    public var host = "127.0.0.1"
    public var port = 8080
    /// File holding the first admin token; when the database has no admin token, its SHA-256 is stored.
    /// Under systemd this comes through `LoadCredential=` instead.
    public var bootstrapAdminTokenFile = ""
    /// Tokens made before the checksum (`bgb_` + 43 characters) keep working while this is true, so an install
    /// upgraded in place does not lock its admin out; set it false once every such token has been rotated.
    public var acceptLegacyTokens = true
    /// The limits of each tier (DESIGN §6); a subscription may override them (`PUT /api/admin/subscriptions/{owner}`).
    public var tiers = Tiers()
    public var usage = Usage()
    /// `GET /api/events`: its buffer, each client's queue, tick sampling and heartbeat.
    public var events = Events()
    /// How long pause, resume, lock and unlock wait for routerd or mindsetd. Past it the change may still take effect
    /// (504 `outcome_unknown`); at most 50 s, so that `bagbot`'s own 60 s wait always outlasts it.
    public var controlTimeoutMs = 30_000
    /// Who may read `GET /metrics` (docs/observability.md).
    public var metricsAccess = MetricsAccess.loopback
    /// The web dashboard's files (docs/dashboard.md). Empty: beside the binary as built, else
    /// `/usr/local/share/bagbot/dashboard` as installed; none found, `/` answers 404 and the API works as ever.
    public var dashboardDir = ""

    public init() {}

    /// Who may scrape `GET /metrics`: it names strategies, symbols and tiers, so not the whole internet by default.
    public enum MetricsAccess: String, Codable, Sendable, Equatable, CaseIterable {
        /// Without a token, from the machine itself only (a Prometheus on the VPS, or one reaching it through an SSH
        /// tunnel); any other caller gets 403. Behind a reverse proxy on the same machine every caller looks local:
        /// use `admin` there.
        case loopback
        /// With an admin token, from anywhere (Prometheus's `authorization: credentials_file:`).
        case admin
        /// Anyone who can reach the port.
        case open
    }

    public struct Tiers: Codable, Sendable, Equatable {
        public var free = TierLimits(perMinute: 60, perDay: 1_000, readOnly: true)
        public var pro = TierLimits(perMinute: 600, perDay: 100_000, readOnly: false)
        public var enterprise = TierLimits(perMinute: 6_000, perDay: 0, readOnly: false)

        public init() {}

        public subscript(tier: Tier) -> TierLimits {
            switch tier {
            case .free: free
            case .pro: pro
            case .enterprise: enterprise
            }
        }
    }

    /// The bounded buffer between requests and `usage_logs`.
    public struct Usage: Codable, Sendable, Equatable {
        /// Calls held in memory before they are written; beyond it a call is counted as dropped, never waited for.
        public var bufferCapacity = 20_000
        /// The longest a call waits in memory before it is written (a full batch is written sooner).
        public var flushIntervalMs = 1_000
        /// Calls that make the writer start a batch before its interval ends. Each batch writes the last pages of
        /// `usage_logs` and its index again and syncs, so small ones cost more per call; a large one holds
        /// `bagbot.db`'s write lock, which routerd's orders also take, for longer (docs/api.md, "Usage recording").
        public var batchSize = 2_000

        public init() {}
    }

    /// The event stream's bounds (docs/api.md, "GET /api/events").
    public struct Events: Codable, Sendable, Equatable {
        /// Events kept for clients resuming with `Last-Event-ID` (the oldest go first).
        public var bufferCapacity = 10_000
        /// Events waiting to be written to one client; a client that lets it fill is cut off.
        public var clientQueueCapacity = 1_000
        /// At most this many ticks per symbol per second go out (0: none).
        public var ticksPerSecond = 1
        /// A `: keep-alive` comment this often, so proxies and clients see the stream is alive.
        public var heartbeatSeconds = 15
        /// Streams open at once; one more is refused with 503 `too_many_streams`.
        public var maxClients = 100

        public init() {}

        func validate(_ check: ConfigCheck) throws {
            guard (100...1_000_000).contains(bufferCapacity) else { throw check.fail("events.buffer_capacity", "must be 100…1000000") }
            guard (10...100_000).contains(clientQueueCapacity) else { throw check.fail("events.client_queue_capacity", "must be 10…100000") }
            guard (0...100).contains(ticksPerSecond) else { throw check.fail("events.ticks_per_second", "must be 0 (no ticks)…100") }
            guard (1...300).contains(heartbeatSeconds) else { throw check.fail("events.heartbeat_seconds", "must be 1…300") }
            guard (1...10_000).contains(maxClients) else { throw check.fail("events.max_clients", "must be 1…10000") }
        }
    }

    public func validate(_ check: ConfigCheck) throws {
        guard (1...65_535).contains(port) else { throw check.fail("port", "must be 1–65535") }
        for tier in Tier.allCases {
            if let problem = tiers[tier].problem {
                throw check.fail("tiers.\(tier.rawValue).\(problem.key)", problem.reason)
            }
        }
        guard (1_000...50_000).contains(controlTimeoutMs) else { throw check.fail("control_timeout_ms", "must be 1000…50000") }
        guard (100...1_000_000).contains(usage.bufferCapacity) else { throw check.fail("usage.buffer_capacity", "must be 100…1000000") }
        guard (10...60_000).contains(usage.flushIntervalMs) else { throw check.fail("usage.flush_interval_ms", "must be 10…60000") }
        guard (1...usage.bufferCapacity).contains(usage.batchSize) else {
            throw check.fail("usage.batch_size", "must be 1…usage.buffer_capacity (\(usage.bufferCapacity))")
        }
        try events.validate(check)
    }
}
