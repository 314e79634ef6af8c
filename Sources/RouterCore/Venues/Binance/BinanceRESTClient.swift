import BagbotIPC
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Logging
import Metrics

/// Every REST request BAGBOT makes to Binance goes through here (binance-spot-api-docs, rest-api.md): asked of the
/// request gate first (nothing leaves during a 429 back-off or a 418 ban, reads wait for a window that is nearly
/// used, orders are refused), signed with a timestamp on Binance's clock as estimated, and its answer's usage
/// headers and outcome fed back to the gate. It never sends a request twice on its own, except a read refused for
/// its timestamp (-1021), which is sent once more after the clock is read again.
actor BinanceRESTClient {
    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var parameters: [(name: String, value: String)]
        var signed: Bool
        /// Binance's weight for this request (rest-api.md, each endpoint's "Weight").
        var weight: Int
        /// A new order: counted against the order limits, and never sent again.
        var isOrder: Bool
        var timeout: TimeAmount

        var what: String { "\(method.rawValue) \(path)" }
    }

    /// Why a request got no successful answer, and therefore what may have happened at Binance.
    enum Failure: Error, Sendable, CustomStringConvertible {
        /// Not sent: the gate held it back (a ban, a back-off, the order limit) or no connection could be made.
        case notSent(String)
        /// Sent, and Binance answered with this outcome (never `.success`).
        case answered(BinanceOutcome)
        /// Sent (or perhaps sent), and no answer came: a timeout or a connection lost mid-request.
        case noAnswer(String)
        /// Binance answered 2xx with a body that could not be read.
        case malformed(String)

        var description: String {
            switch self {
            case .notSent(let reason): "not sent: \(reason)"
            case .answered(let outcome): "Binance answered: \(outcome)"
            case .noAnswer(let reason): "no answer: \(reason)"
            case .malformed(let reason): reason
            }
        }
    }

    let baseURL: String
    let credential: BinanceCredential?
    let recvWindowMilliseconds: Int
    /// How long a read may wait for a rate-limit window to open before it is refused instead.
    let maximumWait: Duration
    private let http: HTTPClient
    private var gate: BinanceRequestGate
    /// Binance's count of this IP's request weight in the current minute (`X-MBX-USED-WEIGHT-1M`), and its refusals.
    private let weightUsed = Gauge(label: "bagbot_venue_request_weight_used", dimensions: [("venue", "binance"), ("interval", "1m")])
    private let bans = Metrics.Counter(label: "bagbot_venue_refusals_total", dimensions: [("venue", "binance"), ("kind", "banned")])
    private let rateLimits = Metrics.Counter(label: "bagbot_venue_refusals_total", dimensions: [("venue", "binance"), ("kind", "rate_limited")])
    private let orderCountFull = Metrics.Counter(label: "bagbot_venue_refusals_total", dimensions: [("venue", "binance"), ("kind", "order_count")])
    private var clock = BinanceClock()
    private var lastClockSync: Date?
    private let logger: Logger
    private let maximumBodyBytes = 8 * 1024 * 1024
    /// Where a ban or back-off is saved, so a restarted routerd does not send its start-up requests into it
    /// (Binance lengthens the bans of repeat offenders); nil: kept in memory only.
    private let blockFile: String?

    /// `maximumWait` is zero by default: venue calls run inside routerd's exclusive section, where a read waiting for
    /// the next rate-limit window would hold up every cancel behind it; it fails as not sent instead.
    init(baseURL: String, credential: BinanceCredential?, recvWindowMilliseconds: Int = 5_000, gate: BinanceRequestGate = BinanceRequestGate(),
         maximumWait: Duration = .zero, blockFile: String? = nil, logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.blockFile = blockFile
        self.credential = credential
        self.recvWindowMilliseconds = recvWindowMilliseconds
        self.gate = gate
        self.maximumWait = maximumWait
        self.logger = logger
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(30)))
        configuration.httpVersion = .http1Only
        // No tracer: routerd bootstraps none, and AsyncHTTPClient's default (the global no-op tracer) still made a span
        // and its attributes for every request on an order's way.
        configuration.tracing.tracer = nil
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        if let blockFile, let saved = BlockRecord.read(blockFile) {
            self.gate.restore(bannedUntil: saved.bannedUntil, backOffUntil: saved.backOffUntil)
            if let until = saved.ordersHeldUntil {
                self.gate.restoreOrderHold(until: until, reason: saved.ordersHeldReason, seconds: saved.orderHoldSeconds, at: Date())
            }
        }
    }

    /// A ban or back-off as saved on disk, and new orders held by a -1015 (absent from files of older builds).
    struct BlockRecord: Codable {
        var bannedUntil: Date?
        var backOffUntil: Date?
        var ordersHeldUntil: Date?
        var ordersHeldReason: String?
        var orderHoldSeconds: Double?

        init(bannedUntil: Date?, backOffUntil: Date?, ordersHeldUntil: Date?, ordersHeldReason: String?, orderHoldSeconds: Double?) {
            (self.bannedUntil, self.backOffUntil) = (bannedUntil, backOffUntil)
            (self.ordersHeldUntil, self.ordersHeldReason, self.orderHoldSeconds) = (ordersHeldUntil, ordersHeldReason, orderHoldSeconds)
        }

        /// Field by field: one the decoder cannot read (a hand edit) loses itself, never the saved ban beside it.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            bannedUntil = try? container.decodeIfPresent(Date.self, forKey: .bannedUntil)
            backOffUntil = try? container.decodeIfPresent(Date.self, forKey: .backOffUntil)
            ordersHeldUntil = try? container.decodeIfPresent(Date.self, forKey: .ordersHeldUntil)
            ordersHeldReason = try? container.decodeIfPresent(String.self, forKey: .ordersHeldReason)
            orderHoldSeconds = try? container.decodeIfPresent(Double.self, forKey: .orderHoldSeconds)
        }

        static func read(_ path: String) -> BlockRecord? {
            guard let data = FileManager.default.contents(atPath: path), data.count < 4_096 else { return nil }
            return try? JSONDecoder().decode(BlockRecord.self, from: data)
        }
    }

    private func saveBlock() {
        guard let blockFile else { return }
        let hold = gate.orderHold
        let record = BlockRecord(bannedUntil: gate.bannedUntil, backOffUntil: gate.backOffUntil, ordersHeldUntil: hold?.until,
                                 ordersHeldReason: hold?.reason.map { String($0.prefix(300)) }, orderHoldSeconds: hold?.seconds)
        do {
            try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: blockFile), options: .atomic)
        } catch {
            logger.error("Binance's ban or order hold could not be saved; a restart would not know of it", metadata: ["file": "\(blockFile)", "error": "\(error)"])
        }
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// What the venue's status says while nothing may be sent (a ban or a back-off), or nil.
    func blockedReason() -> String? { gate.blockedReason(at: binanceNow()) }
    func ordersHeldReason() -> String? { gate.ordersHeldReason(at: binanceNow()) }

    func setLimits(_ limits: [BinanceRequestGate.Limit]) { gate.setLimits(limits) }

    /// How long until requests may leave again (a ban or back-off), or nil: what the WebSocket connections wait for
    /// before connecting (Binance's limits are per IP, whichever way a request comes).
    func blockedFor() -> Duration? {
        let now = binanceNow()
        let until = [gate.bannedUntil, gate.backOffUntil].compactMap { $0 }.filter { $0 > now }.max()
        return until.map { .milliseconds(Int64(($0.timeIntervalSince(now) * 1_000).rounded(.up)) + 10) }
    }

    /// A 429 or 418 that came another way (the WebSocket API): nothing leaves until it is over, here too. `until`:
    /// the end Binance gave, a time on its clock (capped at 3 days, as a `Retry-After` is).
    func recordRefusal(_ outcome: BinanceOutcome, until: Date?) {
        let now = binanceNow()
        gate.record(outcome, at: now)
        if let until {
            let end = min(until, now.addingTimeInterval(3 * 86_400))
            if case .banned = outcome { gate.restore(bannedUntil: end, backOffUntil: nil) } else { gate.restore(bannedUntil: nil, backOffUntil: end) }
        }
        saveBlock()
        logger.error("Binance is refusing requests; nothing is sent until it allows", metadata: [
            "outcome": "\(outcome)", "until": "\(gate.blockedReason(at: binanceNow()) ?? "-")",
        ])
    }

    func usedWeight() -> Int? { gate.used(.requestWeight, interval: "MINUTE", intervalNum: 1, at: binanceNow()) }

    var clockOffsetMilliseconds: Double { clock.offsetMilliseconds }

    /// A request's `timestamp` now: Binance's time in milliseconds as estimated (for the WebSocket API too).
    func timestampMilliseconds() -> Int64 { clock.timestamp(at: Date()) }

    /// Binance's time now, as this machine estimates it.
    func binanceNow() -> Date {
        Date(timeIntervalSince1970: Double(clock.timestamp(at: Date())) / 1_000)
    }

    /// Reads Binance's clock (`GET /api/v3/time`, weight 1) and keeps the offset to it.
    /// `afterRefusal`: Binance has just refused a timestamp, so the offset is known to be wrong, and the new sample is
    /// taken even if its round trip is slower than usual (on a loaded machine it always is; ignoring it would leave
    /// every request refused until the next scheduled reading).
    func syncClock(afterRefusal: Bool = false) async throws(Failure) {
        if lastClockSync == nil {
            // The first request opens the connection (DNS, TCP, TLS): a round trip that long would skew the estimate.
            _ = try await send(Request(method: .GET, path: "/api/v3/ping", parameters: [], signed: false, weight: 1, isOrder: false,
                                       timeout: .seconds(10)), retryOnClockSkew: false)
        }
        // The round trip is measured on the monotonic clock: a step of the wall clock meanwhile cannot distort it.
        let sent = Date()
        let started = ContinuousClock.now
        let body = try await send(Request(method: .GET, path: "/api/v3/time", parameters: [], signed: false, weight: 1, isOrder: false,
                                          timeout: .seconds(10)), retryOnClockSkew: false)
        let elapsed = ContinuousClock.now - started
        let received = sent.addingTimeInterval(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        struct ServerTime: Decodable { var serverTime: Int64 }
        guard let time = try? ExchangeJSON.decode(ServerTime.self, from: body) else {
            throw .malformed("Binance's answer to GET /api/v3/time could not be read")
        }
        if clock.observe(serverTimeMilliseconds: time.serverTime, sent: sent, received: received, previousAt: afterRefusal ? nil : lastClockSync) {
            lastClockSync = received
        } else if abs(Double(time.serverTime) - received.timeIntervalSince1970 * 1_000) > BinanceClock.maximumOffsetMilliseconds {
            logger.error("Binance's clock as answered is more than 30 days from this machine's; the sample is ignored", metadata: [
                "server_time_ms": "\(time.serverTime)",
            ])
        }
    }

    /// Sends `request` once and returns the body of a successful answer.
    func send(_ request: Request) async throws(Failure) -> [UInt8] {
        try await send(request, retryOnClockSkew: !request.isOrder, permission: nil)
    }

    /// `send`, begun before routerd may let the request go: its parameters travel in the body
    /// (`application/x-www-form-urlencoded`, which Binance takes for POST and DELETE: rest-api.md "General information
    /// on endpoints"), and the body waits for `permission` while the head goes at once. Binance cannot act on a request
    /// whose body has not come; refused, the body never leaves and this fails as `notSent`. Never sent twice.
    func send(_ request: Request, sendingOnce permission: SendPermission) async throws(Failure) -> [UInt8] {
        try await send(request, retryOnClockSkew: false, permission: permission)
    }

    private func send(_ request: Request, retryOnClockSkew: Bool, permission: SendPermission? = nil) async throws(Failure) -> [UInt8] {
        try await admit(request)
        var httpRequest: HTTPClientRequest
        let withheld: WithheldBody?
        do {
            (httpRequest, withheld) = try self.httpRequest(for: request, permission: permission)
        } catch {
            throw .notSent("the request could not be signed: \(error)")
        }
        if let credential { httpRequest.headers.add(name: "X-MBX-APIKEY", value: credential.apiKey) }
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        // An answer whose head came before the withheld parameters were handed over answers the head alone: sealed at
        // once, they never leave (an answer of 300 or more stops AsyncHTTPClient's body; a 2xx would not).
        var answeredUnsent = false
        do {
            let response = try await http.execute(httpRequest, timeout: request.timeout, logger: logger)
            answeredUnsent = withheld?.sealUnsent() ?? false
            status = Int(response.status.code)
            headers = response.headers
            body = Array(buffer: try await response.body.collect(upTo: maximumBodyBytes))
        } catch {
            if Self.neverReachedBinance(error) { throw .notSent("no connection to \(baseURL): \(error)") }
            // Its parameters never left (refused, or the request ended while they waited): Binance had nothing to act on.
            if let withheld, let permission, withheld.sealUnsent() {
                return try await sendAfresh(request, permission, because: "\(error)")
            }
            throw .noAnswer("\(request.what): \(error)")
        }
        let now = binanceNow()
        gate.observe(headers: headers.map { ($0.name, $0.value) }, at: now)
        let outcome = BinanceOutcome.of(status: status, body: body, retryAfter: headers.first(name: "Retry-After"))
        gate.record(outcome, at: now)
        if let used = headers.first(name: "X-MBX-USED-WEIGHT-1M").flatMap(Double.init) { weightUsed.record(used) }
        var refusing = false
        if case .banned = outcome { bans.increment(); refusing = true } else if case .rateLimited = outcome { rateLimits.increment(); refusing = true }
        if case .tooManyOrders = outcome {
            orderCountFull.increment()
            saveBlock()
            logger.warning("Binance's unfilled order count for this account is full: new orders are held; cancels and reads go on",
                           metadata: ["request": "\(request.what)", "held": "\(gate.ordersHeldReason(at: now) ?? "-")"])
        }
        if refusing {
            saveBlock()
            logger.error("Binance is refusing requests; nothing is sent until it allows", metadata: [
                "request": "\(request.what)", "outcome": "\(outcome)", "until": "\(gate.blockedReason(at: now) ?? "-")",
            ])
        }
        // An answer to the head alone (a 429, a 5xx in front of Binance's engine): its parameters never left. Sent
        // afresh once granted, through the gate, which holds it back during a ban or back-off just recorded.
        if answeredUnsent, let permission {
            return try await sendAfresh(request, permission, because: "answered \(status) before its parameters were sent")
        }
        switch outcome {
        case .success:
            return body
        case .clockSkew(let message):
            logger.warning("Binance refused a request's timestamp; reading its clock again", metadata: [
                "request": "\(request.what)", "message": "\(message)", "offset_ms": "\(clock.offsetMilliseconds)",
            ])
            try? await syncClock(afterRefusal: true)
            if retryOnClockSkew { return try await send(request, retryOnClockSkew: false) }
            throw .answered(outcome)
        default:
            throw .answered(outcome)
        }
    }

    /// A request whose withheld parameters never left (`WithheldBody.sealUnsent`): refused, it is not sent; granted
    /// (the request had ended before: a deadline or a closed connection while the disk synced, an answer to its head
    /// alone, a grant too late for its timestamp), it is sent as a request of its own, signed afresh, as it would
    /// have been had nothing been prepared. Binance never had the first one's parameters, so this is not a resend.
    private func sendAfresh(_ request: Request, _ permission: SendPermission, because cause: String) async throws(Failure) -> [UInt8] {
        guard await permission.decision() else { throw .notSent(SendPermission.refusedReason) }
        logger.info("a prepared request ended before its parameters were sent; sending it afresh", metadata: [
            "request": "\(request.what)", "cause": "\(cause)",
        ])
        return try await send(request, retryOnClockSkew: false, permission: nil)
    }

    /// Waits for the gate, or refuses: an order is never held back to leave later (the market will have moved),
    /// nor is any request during a ban or back-off; a read waits up to `maximumWait` for a window to open.
    private func admit(_ request: Request) async throws(Failure) {
        let started = ContinuousClock.now
        while true {
            switch gate.admit(weight: request.weight, isOrder: request.isOrder, at: binanceNow()) {
            case .now:
                return
            case .refused(_, let reason):
                throw .notSent(reason)
            case .wait(let until):
                let delay = until.timeIntervalSince(binanceNow())
                guard !request.isOrder, ContinuousClock.now - started + .seconds(max(delay, 0)) <= maximumWait else {
                    throw .notSent("Binance's request weight for this minute is nearly used; \(request.what) would wait \(Int(delay.rounded(.up))) s")
                }
                do {
                    try await Task.sleep(for: .milliseconds(Int(max(delay, 0.01) * 1_000)))
                } catch {
                    throw .notSent("cancelled while waiting for Binance's rate limit")
                }
            }
        }
    }

    /// The request, its parameters (signed if it is) in the query string, or with a permission in a body withheld
    /// until it is granted.
    private func httpRequest(for request: Request, permission: SendPermission?) throws -> (HTTPClientRequest, WithheldBody?) {
        let parameters: String
        if request.signed {
            guard let credential else { throw BinanceRESTClientError.noCredential }
            parameters = try BinanceSigning.signedQuery(request.parameters, timestampMilliseconds: clock.timestamp(at: Date()),
                                                        recvWindowMilliseconds: recvWindowMilliseconds, with: credential)
        } else {
            parameters = BinanceSigning.payload(request.parameters)
        }
        guard let permission else {
            var httpRequest = HTTPClientRequest(url: baseURL + request.path + (parameters.isEmpty ? "" : "?" + parameters))
            httpRequest.method = request.method
            return (httpRequest, nil)
        }
        // An empty body is no body: AsyncHTTPClient would send the request whole without reading it.
        guard !parameters.isEmpty else { throw BinanceRESTClientError.nothingToWithhold }
        var httpRequest = HTTPClientRequest(url: baseURL + request.path)
        httpRequest.method = request.method
        httpRequest.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        // Handed over by half its timestamp's window and half its deadline, or else sent afresh (`sendAfresh`).
        let margin = min(Duration.milliseconds(recvWindowMilliseconds), .nanoseconds(request.timeout.nanoseconds)) / 2
        let body = WithheldBody(ByteBuffer(string: parameters), until: permission, sendBy: .now + margin)
        httpRequest.body = .stream(body, length: .known(Int64(body.bytes.readableBytes)))
        return (httpRequest, body)
    }

    /// Errors that mean the request never left this machine: no connection could be made (refused, unreachable,
    /// timed out while connecting). Anything else may have reached Binance.
    static func neverReachedBinance(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) { return true }
        return false
    }
}

enum BinanceRESTClientError: Error, CustomStringConvertible {
    case noCredential
    case nothingToWithhold

    var description: String {
        switch self {
        case .noCredential: "no Binance API credential is configured"
        case .nothingToWithhold: "a request to be sent once permitted has no parameters to hold back"
        }
    }
}
