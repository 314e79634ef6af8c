import Foundation
import Hummingbird
import BagbotRuntime
import NIOCore

/// Who is calling, once the token is validated: the token, its owner's tier and the limits that apply.
public struct Identity: Sendable {
    public var token: APIToken
    public var tier: Tier
    public var limits: TierLimits
    /// nil when the owner has no subscription row (the token's own tier applies).
    public var subscription: Subscription?

    public var owner: String { token.owner }
    public var role: TokenRole { token.role }
}

/// Request context carrying the caller's identity and the rate limiter's decision, set by the middleware on
/// every request but the public ones (`GatewayEnvironment.publicPaths`).
public struct GatewayContext: RequestContext {
    /// Every API body is a small JSON object; anything larger is refused with 413 before it is read whole.
    public static let maximumBodyBytes = 65_536

    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var rateDecision: RateDecision?
    /// The request's connection: `GET /api/events` closes it to cut off a client that reads too slowly (a write
    /// blocked on its full socket then fails at once).
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var maxUploadSize: Int { Self.maximumBodyBytes }

    /// The identity, for routes behind the middleware (which always sets it). Without one the caller is refused as
    /// unauthenticated: a route reached some other way must never act on nobody's behalf.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthorized("token_missing", "missing Authorization: Bearer <token>") }
        return identity
    }
}

/// Everything the middleware and the routes share.
struct GatewayEnvironment: Sendable {
    let tokens: TokenStore
    let limiter: RateLimiter
    let usage: UsageRecorder
    let settings: GatewaySettings
    let daemons: DaemonClients
    /// `GET /api/events`'s buffer and clients (fed by `EventFeed`).
    let events: EventFanOut
    /// `Idempotency-Key`s of `POST /api/orders`.
    let idempotency: IdempotencyStore
    /// Who placed each manual order (in the same database as the keys).
    var orderOwners: ManualOrderOwners { ManualOrderOwners(database: idempotency.database) }
    let started: Date
    /// The wall clock, injectable so tests cross minute and day boundaries without sleeping.
    let clock: @Sendable () -> Date
    var timeouts = DaemonTimeouts()
    /// The gateway's own recent log lines, for `GET /api/logs` beside the daemons'.
    var recentLogs: RecentLogs = .shared
    /// `GET /metrics`'s one gathering at a time.
    var metrics = MetricsCache()
    /// The dashboard's files (`DashboardMiddleware.directory`), nil when not installed.
    var dashboardDirectory: String?
    /// Changes that shared reads' calls on their way must not hide (`CoalescedRead`); `EventFeed` notes events here.
    var sharedReadChanges = SharedReadChanges()

    /// The reads shared between requests (`CoalescedRead`), which note no change by being served.
    static let sharedReadPaths: Set<String> = ["/api/positions", "/api/account", "/api/mindset"]
    /// How long a shared read's answer may serve requests that come after its call, while nothing changed
    /// (`CoalescedRead`, docs/api.md "Reads shared between requests").
    static let sharedReadReuse = Duration.milliseconds(2)
    /// How old an answer may still serve a request at once, while nothing changed and a call to replace it is on its
    /// way (`CoalescedRead`).
    static let sharedReadRefresh = Duration.milliseconds(20)

    /// A read shared between requests, with the gateway's changes and times.
    func sharedRead<Value: Sendable & Equatable>(_ fetch: @escaping @Sendable () async throws -> Value) -> CoalescedRead<Value> {
        CoalescedRead(changes: sharedReadChanges, reuseFor: Self.sharedReadReuse, refreshWithin: Self.sharedReadRefresh, fetch)
    }

    /// The only paths served without a token: health and the API's description (an allowlist: any other path, a route or not, needs one). Compared
    /// with the exact path, which `CanonicalPathMiddleware` has made sure the router reads the same way.
    static let publicPaths: Set<String> = ["/healthz", "/openapi.json"]

    /// Paths served without a token under these settings: the public ones, and `/metrics` unless it is set to need an
    /// admin token (`MetricsRoutes` then checks who may read it).
    func isPublic(_ path: String) -> Bool {
        Self.publicPaths.contains(path) || (path == MetricsRoutes.path && settings.metricsAccess != .admin)
    }
}
