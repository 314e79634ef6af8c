import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// `GET /api/events`: Server-Sent Events for Enterprise subscribers and admins (DESIGN §6: "Enterprise — … event
/// streaming"). The stream and what each client receives are `EventFanOut`'s; this writes them out.
enum EventRoutes {
    static let lastEventIdHeader = HTTPField.Name("Last-Event-ID")!

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let fanOut = environment.events
        router.get("/api/events") { request, context in
            let identity = try context.requireIdentity()
            guard identity.role == .admin || identity.tier == .enterprise else {
                throw APIError.forbidden("tier_forbidden", "the event stream needs the enterprise tier or an admin token; "
                                         + "the \(identity.tier.rawValue) tier may read GET /api/signals and GET /api/orders")
            }
            let lastEventId = try checkedLastEventId(request.headers[lastEventIdHeader])
            let channel = context.channel
            let subscription = try fanOut.subscribe(lastEventId: lastEventId) { channel.close(promise: nil) }
            context.logger.info("event stream opened", metadata: [
                "by": "\(identity.token.prefix)", "last_event_id": "\(lastEventId.map(String.init) ?? "-")",
                "replayed": "\(subscription.replay.count)",
            ])
            return Response(
                status: .ok,
                headers: [.contentType: ServerSentEvents.contentType, .cacheControl: "no-store",
                          // Proxies that buffer (nginx) would hold the events back.
                          HTTPField.Name("X-Accel-Buffering")!: "no"],
                body: ResponseBody { writer in
                    defer { subscription.cancel() }
                    try await write(subscription, to: &writer)
                })
        }
        table.note("/api/events", .get)
    }

    /// The client's `Last-Event-ID`: one of the decimal ids this stream gives out (else 400). Empty is none, as a
    /// browser sends before its first event.
    static func checkedLastEventId(_ value: String?) throws -> UInt64? {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard value.utf8.count <= 20, value.allSatisfy(\.isASCII), let id = UInt64(value.trimmingCharacters(in: .whitespaces)) else {
            throw APIError.badRequest("Last-Event-ID must be the id of an event this stream sent (a whole number)")
        }
        return id
    }

    /// The connection's notices, what it missed, then its live events and heartbeats until the stream ends: cleanly
    /// on the gateway's shutdown; by an error (the connection closed) when the client was cut off or went away.
    static func write(_ subscription: EventSubscription, to writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(notice("daemons", subscription.daemons))
        if let missed = subscription.missed {
            try await writer.write(notice("missed", MissedNotice(missed)))
        }
        for event in subscription.replay {
            try await writer.write(event.frame)
        }
        for await delivery in subscription.deliveries {
            guard subscription.end == nil else { break }
            switch delivery {
            case .event(let event): try await writer.write(event.frame)
            case .heartbeat: try await writer.write(ServerSentEvents.heartbeat)
            }
        }
        switch subscription.end {
        case .tooSlow: throw CutOff()
        case .shutdown:
            try await writer.write(ServerSentEvents.comment("the gateway is stopping; reconnect with Last-Event-ID"))
            try await writer.finish(nil)
        case nil:
            try await writer.finish(nil)
        }
    }

    /// The stream of a client cut off for reading too slowly ends with its connection (already closed).
    struct CutOff: Error {}

    /// A notice of this connection only: no `id:`, so the client's last event id stays the last event's.
    static func notice(_ event: String, _ body: some Encodable) throws -> ByteBuffer {
        ServerSentEvents.frame(id: nil, event: event, json: try JSONResponse.data(body))
    }

    /// `missed`: the client's `Last-Event-ID` is older than the buffer, or not an id of this gateway.
    struct MissedNotice: Encodable {
        var lastEventId: UInt64
        var firstAvailableId: UInt64
        var message: String

        init(_ missed: EventSubscription.Missed) {
            lastEventId = missed.lastEventId
            firstAvailableId = missed.firstAvailableId
            message = "events after \(missed.lastEventId) are no longer buffered (or that id is not this gateway's): the stream goes on from "
                + "the oldest event it still has; GET /api/orders and GET /api/signals have what happened meanwhile"
        }
    }
}
