import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import BagbotDomain
import BagbotIPC

/// The daemons' events into the gateway's event stream: one subscription per daemon, on connections of its own (a
/// backlog of ticks never sits in front of a route's call), each event re-encoded as the API's JSON (ISO 8601 times,
/// money as decimal strings) and handed to the fan-out. A service of the gateway's group: on the graceful shutdown it
/// ends every client's stream first, so the HTTP server, stopped next, has no stream left to wait for.
final class EventFeed: Service, Sendable {
    /// A daemon's connection for events and the topics asked of it.
    struct Source: Sendable {
        let client: IPCClient
        let subscribe: String
        let topics: [String]
    }

    let fanOut: EventFanOut
    /// routerd's events of a trade held until arsenald's decision for it is streamed.
    let causal = EventCausalOrder()
    private let sources: [Source]
    private let logger: Logger
    /// How often connections are checked for `daemon_down`.
    private let checkEvery: Duration

    /// Every event is a change shared reads must not hide (`CoalescedRead`).
    private let changes: SharedReadChanges

    init(fanOut: EventFanOut, mindset: IPCClient, arsenal: IPCClient, router: IPCClient, changes: SharedReadChanges,
         logger: Logger, checkEvery: Duration = .milliseconds(250)) {
        self.fanOut = fanOut
        self.changes = changes
        self.logger = logger
        self.checkEvery = checkEvery
        let routerTopics = [Topics.orders.name, Topics.fills.name] + (fanOut.settings.ticksPerSecond > 0 ? [Topics.ticks.name] : [])
        sources = [
            Source(client: mindset, subscribe: Methods.mindsetSubscribe, topics: [Topics.mindsetState.name]),
            Source(client: arsenal, subscribe: Methods.arsenalSubscribe, topics: [Topics.signals.name]),
            Source(client: router, subscribe: Methods.routerSubscribe, topics: routerTopics),
        ]
        for source in sources {
            // Known, and down until its connection is up: every client's first notice names all three.
            fanOut.daemon(source.client.peerService, up: false, json: Self.daemonNotice(source.client.peerService))
            wire(source)
        }
    }

    private func wire(_ source: Source) {
        let fanOut = fanOut
        let causal = causal
        let logger = logger
        let peer = source.client.peerService
        let changes = changes
        source.client.onEvent { event in
            changes.noteChange()
            do {
                try Self.forward(event, to: fanOut, causal: causal)
            } catch {
                logger.error("unreadable event from a daemon; not streamed", metadata: ["peer": "\(peer)", "method": "\(event.method)", "error": "\(error)"])
            }
        }
        source.client.onConnect { client in
            // Events may have been missed while the daemon was away: a shared read's answer from before is not used again.
            changes.noteChange()
            // Said before subscribing, so `daemon_up` always precedes the daemon's first event; a failed subscription
            // drops the connection, and the next check says `daemon_down`.
            fanOut.daemon(peer, up: true, json: Self.daemonNotice(peer))
            let _: SubscribeResponse = try await client.call(source.subscribe, SubscribeRequest(topics: source.topics))
        }
    }

    /// One daemon event as a stream event; events of no kind the stream carries are ignored. A trade's order and
    /// fills wait for its decision (`causal`).
    static func forward(_ event: IPCEvent, to fanOut: EventFanOut, causal: EventCausalOrder) throws {
        let publish = { (kind: StreamEventKind, json: Data) in fanOut.publish(kind, json: json) }
        switch event.method {
        case Events.tick:
            // Most ticks are not sampled: their symbol is read from the frame, and only those kept are decoded.
            let peeked = IPCClient.tickSymbol(in: event.frame)
            if let peeked, !fanOut.admitsTick(of: peeked) { return }
            let tick = try event.decode(Tick.self)
            guard peeked.map({ $0 == tick.symbol }) ?? fanOut.admitsTick(of: tick.symbol) else { return }
            fanOut.publish(.tick, json: try JSONResponse.data(tick))
        case Events.order:
            let order = try event.decode(OrderRecord.self)
            causal.tradeEvent(.order, clientOrderId: order.clientOrderId, json: try JSONResponse.data(order), publish: publish)
        case Events.fill:
            let fill = try event.decode(Fill.self)
            causal.tradeEvent(.fill, clientOrderId: fill.clientOrderId, json: try JSONResponse.data(fill), publish: publish)
        case Events.signal: fanOut.publish(.signal, json: try JSONResponse.data(try event.decode(Signal.self)))
        case Events.decision:
            let decision = try event.decode(DecisionEvent.self)
            causal.decision(requestId: decision.signal.requestId, json: try JSONResponse.data(decision), publish: publish)
        case Events.mindsetTransition:
            // mindsetd's `StateTransition` (from, to, reason, at), its time in ISO 8601 like every API time.
            let transition = try event.decode(JSONValue.self)
            fanOut.publish(.mindsetState, json: try JSONResponse.data(try MindsetView.transition(transition)))
        default:
            return
        }
    }

    struct DaemonNotice: Encodable {
        var daemon: String
        var at: Date
        var message: String
    }

    static func daemonNotice(_ peer: String) -> (Bool) -> Data {
        { up in
            let message = up ? "\(peer)'s events reach the stream again"
                : "the gateway lost \(peer)'s events: those it sent until daemon_up are not in this stream (GET /api/orders and "
                    + "GET /api/signals have them)"
            return (try? JSONResponse.data(DaemonNotice(daemon: peer, at: Date(), message: message))) ?? Data("{}".utf8)
        }
    }

    /// Subscribes and streams until the graceful shutdown: checks the connections (`daemon_down`) and sends the
    /// heartbeat; then ends every client's stream and closes the connections.
    func run() async throws {
        fanOut.start()
        for source in sources { source.client.start() }
        await cancelWhenGracefulShutdown { await self.watch() }
        fanOut.close()
        for source in sources { await source.client.shutdown() }
    }

    /// Until cancelled: trade events held past their bound, `daemon_down` for a connection lost, and the heartbeat.
    private func watch() async {
        let heartbeat = Duration.seconds(fanOut.settings.heartbeatSeconds)
        var sinceHeartbeat = Duration.zero
        while !Task.isCancelled {
            causal.releaseOverdue { kind, json in fanOut.publish(kind, json: json) }
            for source in sources where !source.client.isConnected {
                fanOut.daemon(source.client.peerService, up: false, json: Self.daemonNotice(source.client.peerService))
            }
            sinceHeartbeat += checkEvery
            if sinceHeartbeat >= heartbeat {
                fanOut.heartbeat()
                sinceHeartbeat = .zero
            }
            try? await Task.sleep(for: checkEvery)
        }
    }
}
