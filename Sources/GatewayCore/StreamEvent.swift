import Foundation
import Hummingbird
import NIOCore

/// What `GET /api/events` streams (docs/api.md lists each kind's JSON).
enum StreamEventKind: String, Sendable, CaseIterable {
    case signal, decision, order, fill, tick
    /// One of mindsetd's emotion-state transitions.
    case mindsetState = "mindset_state"
    /// The gateway lost, or regained, its subscription to a daemon's events.
    case daemonDown = "daemon_down"
    case daemonUp = "daemon_up"
}

/// One event of the gateway's sequence, its Server-Sent Events frame written once for every client.
struct StreamEvent: Sendable {
    /// Gateway-wide, strictly increasing, also across restarts (`EventFanOut.initialId`).
    let id: UInt64
    let kind: StreamEventKind
    /// `id: …`, `event: …`, `data: <one line of JSON>` and the blank line that ends the event.
    let frame: ByteBuffer

    init(id: UInt64, kind: StreamEventKind, json: Data) {
        self.id = id
        self.kind = kind
        frame = ServerSentEvents.frame(id: id, event: kind.rawValue, json: json)
    }
}

/// The text/event-stream format (WHATWG HTML, "Server-sent events").
enum ServerSentEvents {
    static let contentType = "text/event-stream; charset=utf-8"
    static let heartbeat = ByteBuffer(string: ": keep-alive\n\n")

    /// One event; `id` nil for the per-connection notices, which leave the client's last event id as it was.
    /// The JSON encoder escapes every line break inside strings, so `json` is always one line.
    static func frame(id: UInt64?, event: String, json: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + 48)
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    static func comment(_ text: String) -> ByteBuffer {
        ByteBuffer(string: ": \(text)\n\n")
    }
}
