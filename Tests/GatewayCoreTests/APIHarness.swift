import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import BagbotIPC
import BagbotRuntime
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// A wall clock the test moves by hand: minute and day boundaries without sleeping.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) { current = Mutex(start) }

    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The gateway's whole router and middleware over a real SQLite file in a temporary directory, with a manual clock.
/// No daemon runs: routes that call routerd get its 503.
struct APIHarness {
    /// 2030-03-17 17:46:40 UTC: 22,400 s before the next UTC midnight.
    static let start = Date(timeIntervalSince1970: 1_900_000_000)
    static let secondsToMidnight = 22_400

    let dir: TempDir
    let database: DatabasePool
    let tokens: TokenStore
    let clock: ManualClock
    let usage: UsageRecorder
    let limiter: RateLimiter
    let events: EventFanOut
    let environment: GatewayEnvironment

    /// `runId`: the gateway run the idempotency store belongs to (a new one is a gateway restart).
    init(settings: GatewaySettings = GatewaySettings(), dir: TempDir? = nil, clock: ManualClock = ManualClock(APIHarness.start),
         runId: String? = nil, timeouts: DaemonTimeouts = DaemonTimeouts(), recentLogs: RecentLogs = RecentLogs(capacity: 100)) throws {
        let dir = try dir ?? TempDir()
        self.dir = dir
        database = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        tokens = TokenStore(database: database, acceptLegacyTokens: settings.acceptLegacyTokens)
        self.clock = clock
        usage = UsageRecorder(database: database, settings: settings.usage, logger: quietLogger)
        limiter = RateLimiter()
        func client(_ peer: String) -> IPCClient {
            IPCClient(ownService: "gateway", peerService: peer, configuration: IPCClientConfiguration(socketPath: dir.file("\(peer).sock")),
                      logger: quietLogger)
        }
        let daemons = DaemonClients(mindset: client("mindsetd"), arsenal: client("arsenald"), router: client("routerd"))
        // Not started: `GET /api/events` answers 503 `events_unavailable` unless a test runs an `EventFeed` or starts it.
        events = EventFanOut(settings: settings.events, logger: quietLogger)
        environment = GatewayEnvironment(tokens: tokens, limiter: limiter, usage: usage, settings: settings, daemons: daemons, events: events,
                                         idempotency: try IdempotencyStore(database: database, runId: runId),
                                         started: APIHarness.start, clock: { [clock] in clock.now() }, timeouts: timeouts,
                                         recentLogs: recentLogs)
    }

    /// The application as the daemon builds it, the usage recorder among its services (stopped after the test).
    var app: some ApplicationProtocol {
        Application(router: GatewayRoutes.build(environment: environment), services: [usage], logger: quietLogger)
    }

    /// A new token through the store, as `POST /api/admin/tokens` makes them; the secret.
    func token(owner: String, tier: Tier, role: TokenRole = .user, expiresInDays: Int? = nil) async throws -> String {
        let now = clock.now()
        let created = try await tokens.create(owner: owner, role: role, tier: tier,
                                              expiresAt: expiresInDays.map { now.addingTimeInterval(Double($0) * 86_400) }, now: now)
        return created.secret
    }

    func tokenId(_ secret: String) async throws -> String {
        try #require(try await tokens.authenticate(secret, now: clock.now()).success?.token.id)
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try database.read { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? -1 }
    }
}

extension TestClientProtocol {
    /// One request with an optional bearer token, JSON body and other header fields.
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, authorization: String? = nil, json: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let authorization { headers[.authorization] = authorization } else if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body's `error.code`, or nil when the body is not an API error.
    var errorCode: String? {
        (try? JSONDecoder().decode(APIError.Body.self, from: Data(body.readableBytesView)))?.error.code
    }

    var errorMessage: String? {
        (try? JSONDecoder().decode(APIError.Body.self, from: Data(body.readableBytesView)))?.error.message
    }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any], "\(String(buffer: body))")
    }

    subscript(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}
