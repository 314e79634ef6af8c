import BagbotDomain
import BagbotIPC
import Foundation
import Logging
import WSClient

/// Binance's user data stream through its WebSocket API (binance-spot-api-docs: web-socket-api.md
/// `userDataStream.subscribe.signature`, user-data-stream.md; the listenKey REST flow was retired in 2026): one
/// connection, subscribed with a signed request (HMAC or Ed25519 alike), that tells of every change to the account's
/// orders (`executionReport`). It says which order changed; the venue looks the order up over REST and hands routerd
/// the whole report, fills included, so duplicated, reordered or missed events cannot leave a fill out.
actor BinanceUserStream {
    enum Event: Sendable, Equatable {
        /// Subscribed (again): what happened while not subscribed must be reconciled.
        case subscribed
        /// The subscription is gone until the next `subscribed`.
        case lost
        /// `status` and `filled`: Binance's `X` and `z`, to skip a lookup when nothing changed.
        case orderChanged(clientOrderId: String, symbol: String, status: String?, filled: String?)
        /// `outboundAccountPosition`: these assets' balances, as of `updatedAt` (Binance's `u`, milliseconds).
        case balances([AssetBalance], updatedAt: Int64)
        /// `balanceUpdate` (a deposit, withdrawal or transfer) or `externalLockUpdate`: balances must be read again.
        case balancesMoved
        /// The subscription was refused for its timestamp (-1021): the clock should be read again before the next.
        case clockRefused
        /// A 429 or 418 on the WebSocket API: the IP's requests are refused, REST too, until it is over (`until`:
        /// Binance's `retryAfter`, a time on its clock).
        case refused(BinanceOutcome, until: Date?)
    }

    private let socket: ReconnectingWebSocket
    private let credential: BinanceCredential
    /// Binance's time in milliseconds, for the request's `timestamp`.
    private let timestamp: @Sendable () async -> Int64
    private let deliver: @Sendable (Event) async -> Void
    /// Events in the order they came, handed to `deliver` by a task of their own: the reader never waits for routerd
    /// (a reconcile after `subscribed`, a look-up), so the connection's pings are answered meanwhile and Binance does
    /// not drop it for a silent client. Events are few (one per change of an order or balance), so none is dropped;
    /// one that waited longer than `slowDelivery` for routerd is said (a routerd that stopped taking them no longer
    /// shows as a dropped connection).
    private let (events, queue) = AsyncStream.makeStream(of: (event: Event, at: ContinuousClock.Instant).self, bufferingPolicy: .unbounded)
    static let slowDelivery: Duration = .seconds(30)
    private let logger: Logger
    private let recvWindowMilliseconds: Int
    private var requests = 0
    private var pendingSubscribe: String?
    private var subscribed = false

    init(url: String, credential: BinanceCredential, recvWindowMilliseconds: Int, logger: Logger, timestamp: @escaping @Sendable () async -> Int64,
         blockedFor: @escaping @Sendable () async -> Duration?, deliver: @escaping @Sendable (Event) async -> Void) {
        socket = ReconnectingWebSocket(url: url, name: "Binance user data stream", logger: logger, blockedFor: blockedFor)
        self.credential = credential
        self.timestamp = timestamp
        self.deliver = deliver
        self.logger = logger
        self.recvWindowMilliseconds = recvWindowMilliseconds
    }

    func run() async {
        let (events, deliver, logger) = (events, deliver, logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                var lastWarning: ContinuousClock.Instant?
                for await (event, at) in events {
                    if Task.isCancelled { break }
                    let waited = ContinuousClock.now - at
                    if waited > Self.slowDelivery, lastWarning.map({ ContinuousClock.now - $0 > .seconds(60) }) ?? true {
                        lastWarning = ContinuousClock.now
                        logger.warning("Binance user data stream events wait for routerd", metadata: ["waited": "\(waited)"])
                    }
                    await deliver(event)
                }
            }
            await socket.run(opened: { outbound in try await outbound.write(.text(try await self.subscribeRequest())) },
                             message: { await self.handle($0) }, closed: { await self.closed() })
            // Stopped (cancelled with the venue): the delivering task hands on nothing more; what it had not handed
            // on yet is reconciled at the next start, as anything missed while not subscribed.
            queue.finish()
        }
    }

    /// `userDataStream.subscribe.signature` with a fresh id, timestamp and recvWindow (numbers, as the docs type them).
    func subscribeRequest() async throws -> String {
        requests += 1
        let id = "bagbot-uds-\(requests)"
        pendingSubscribe = id
        let timestamp = await timestamp()
        let signed: [(name: String, value: String)] = [("apiKey", credential.apiKey), ("recvWindow", String(recvWindowMilliseconds)),
                                                       ("timestamp", String(timestamp))]
        let params: [String: Any] = ["apiKey": credential.apiKey, "recvWindow": recvWindowMilliseconds, "timestamp": timestamp,
                                     "signature": try BinanceSigning.webSocketSignature(signed, with: credential)]
        let request: [String: Any] = ["id": id, "method": "userDataStream.subscribe.signature", "params": params]
        return String(decoding: try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys]), as: UTF8.self)
    }

    private func enqueue(_ event: Event) {
        queue.yield((event, ContinuousClock.now))
    }

    private func closed() async {
        pendingSubscribe = nil
        guard subscribed else { return }
        subscribed = false
        logger.warning("Binance user data stream lost; orders are polled until it is back")
        enqueue(.lost)
    }

    /// One message: the subscription's answer, or an event. False closes the connection (to open it again).
    private func handle(_ text: [UInt8]) async -> Bool {
        switch BinanceUserStreamMessage.read(text) {
        case .answer(let id, let status, let error, let retryAfter) where id == pendingSubscribe:
            pendingSubscribe = nil
            guard status == 200 else {
                logger.error("Binance refused the user data stream's subscription", metadata: ["status": "\(status)", "error": "\(error ?? "-")"])
                // Handed on before the connection closes, not queued behind a reconcile: the next connection must
                // find the back-off or ban in force (a subscription inside a 429's Retry-After earns a 418), and the
                // clock read again.
                if error?.hasPrefix("-1021") == true { await deliver(.clockRefused) }
                if status == 418 || status == 429 || status == 403 {
                    await deliver(.refused(status == 418 ? .banned(retryAfterSeconds: nil, message: error ?? "")
                                           : .rateLimited(retryAfterSeconds: nil, message: error ?? ""), until: retryAfter))
                }
                return false
            }
            subscribed = true
            logger.notice("Binance user data stream subscribed")
            enqueue(.subscribed)
        case .answer:
            break
        case .orderChanged(let clientOrderId, let symbol, let status, let filled):
            enqueue(.orderChanged(clientOrderId: clientOrderId, symbol: symbol, status: status, filled: filled))
        case .balances(let balances, let updatedAt):
            enqueue(.balances(balances, updatedAt: updatedAt))
        case .balancesMoved:
            enqueue(.balancesMoved)
        case .terminated:
            logger.notice("Binance ended the user data stream's subscription; subscribing again")
            return false
        case .serverShutdown:
            logger.notice("Binance announced a server shutdown on the WebSocket API; reconnecting")
            return false
        case .ignored:
            break
        case .unreadable(let reason):
            logger.warning("unreadable message on Binance's user data stream ignored", metadata: ["reason": "\(reason)"])
        }
        return true
    }
}

/// What one message of the WebSocket API connection says (web-socket-api.md "Response format", user-data-stream.md).
enum BinanceUserStreamMessage: Equatable {
    /// `{"id":…,"status":200,"result":…}` or `{"id":…,"status":4xx,"error":{"code":…,"msg":…,"data":{"retryAfter":ms}}}`.
    case answer(id: String?, status: Int, error: String?, retryAfter: Date?)
    /// `executionReport`: this order changed (on a cancel, `C` names the order and `c` the cancel), to status `X`
    /// with `z` filled.
    case orderChanged(clientOrderId: String, symbol: String, status: String?, filled: String?)
    /// `outboundAccountPosition`: the balances of the assets a change touched, as of `u`.
    case balances([AssetBalance], updatedAt: Int64)
    /// `balanceUpdate` (a deposit, withdrawal or transfer) or `externalLockUpdate` (a lock from outside Spot): a balance
    /// moved in a way the account events may not carry.
    case balancesMoved
    /// `serverShutdown`: reconnect now.
    case serverShutdown
    /// `eventStreamTerminated`.
    case terminated
    /// Events BAGBOT has no use for.
    case ignored
    case unreadable(String)

    private struct Message: Decodable {
        struct Failure: Decodable {
            struct Details: Decodable {
                var retryAfter: Int64?
            }
            var code: Int?
            var msg: String?
            var data: Details?
        }
        struct Event: Decodable {
            struct Balance: Decodable {
                var a: String
                var f: ExactDecimal
                var l: ExactDecimal
            }
            var e: String
            var u: Int64?
            var B: [Balance]?
            var s: String?
            var c: String?
            var C: String?
            var X: String?
            var z: String?

            private enum CodingKeys: String, CodingKey { case e, u, B, s, c, C, X, z }

            /// `B` is read as balances only in an `outboundAccountPosition`: an `executionReport` of an order that
            /// self-trade prevention expired carries `"B":"3.000000"` (its last prevented quantity, user-data-stream.md),
            /// which must not make the order's report unreadable.
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                e = try container.decode(String.self, forKey: .e)
                u = try container.decodeIfPresent(Int64.self, forKey: .u)
                B = e == "outboundAccountPosition" ? try container.decodeIfPresent([Balance].self, forKey: .B) : nil
                s = try container.decodeIfPresent(String.self, forKey: .s)
                c = try container.decodeIfPresent(String.self, forKey: .c)
                C = try container.decodeIfPresent(String.self, forKey: .C)
                X = try container.decodeIfPresent(String.self, forKey: .X)
                z = try container.decodeIfPresent(String.self, forKey: .z)
            }
        }
        var id: String?
        var status: Int?
        var error: Failure?
        var event: Event?
    }

    static func read(_ text: [UInt8]) -> BinanceUserStreamMessage {
        guard text.count <= 1 << 16 else { return .unreadable("a message of \(text.count) bytes") }
        let message: Message
        do {
            message = try ExchangeJSON.decode(Message.self, from: text)
        } catch {
            return .unreadable("not a WebSocket API message: \(String(describing: error).prefix(200))")
        }
        if let status = message.status {
            let retryAfter = message.error?.data?.retryAfter.map { Date(timeIntervalSince1970: Double($0) / 1_000) }
            return .answer(id: message.id, status: status, error: message.error.map { "\($0.code.map(String.init) ?? "?"): \($0.msg ?? "")" },
                           retryAfter: retryAfter)
        }
        guard let event = message.event else { return .ignored }
        switch event.e {
        case "executionReport":
            let original = event.C.flatMap { $0.isEmpty ? nil : $0 }
            guard let clientOrderId = original ?? event.c, let symbol = event.s, !clientOrderId.isEmpty else {
                return .unreadable("an executionReport without its symbol or client order id")
            }
            return .orderChanged(clientOrderId: clientOrderId, symbol: symbol, status: event.X, filled: event.z)
        case "outboundAccountPosition":
            guard let updatedAt = event.u, let balances = event.B else {
                return .unreadable("an outboundAccountPosition without its update time or balances")
            }
            return .balances(balances.map { AssetBalance(asset: $0.a, free: $0.f, locked: $0.l) }, updatedAt: updatedAt)
        case "balanceUpdate", "externalLockUpdate":
            return .balancesMoved
        case "eventStreamTerminated":
            return .terminated
        case "serverShutdown":
            return .serverShutdown
        default:
            return .ignored
        }
    }
}
