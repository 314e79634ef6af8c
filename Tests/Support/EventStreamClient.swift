import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// A Server-Sent Events client over real HTTP, as a subscriber's program would be: it reads `GET /api/events` as
/// the bytes come and keeps every event and comment it parsed, for tests to poll.
public final class EventStreamClient: Sendable {
    public struct Event: Sendable, Equatable, CustomStringConvertible {
        public var id: String?
        public var event: String
        public var data: String

        public var description: String { "\(id.map { "#\($0) " } ?? "")\(event) \(data)" }

        /// `data` as a JSON object.
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]) ?? [:]
        }
    }

    private struct Received {
        var events: [Event] = []
        var comments: [String] = []
        /// How the stream ended: "finished" (the server ended the body) or the error.
        var ended: String?
    }

    public let status: Int
    public let contentType: String?
    /// The error body of a refused stream.
    public let errorBody: String?
    private let received = Mutex(Received())
    private let http: HTTPClient
    private let reader = Mutex<Task<Void, Never>?>(nil)
    /// Whether `http` was shut down: a client dropped without `close()` (a test that threw before it) shuts it down
    /// in `deinit`, where AsyncHTTPClient would otherwise stop the whole test process (a debug-build precondition).
    private let shutDown: Mutex<Bool>

    private init(status: Int, contentType: String?, errorBody: String?, http: HTTPClient, shutDown: Bool = false) {
        self.shutDown = Mutex(shutDown)
        self.status = status
        self.contentType = contentType
        self.errorBody = errorBody
        self.http = http
    }

    /// Opens the stream (`readBody: false` reads nothing: a client that stalls, its socket left to fill).
    public static func connect(port: Int, token: String, lastEventId: String? = nil, readBody: Bool = true) async throws -> EventStreamClient {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/events")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventId { request.headers.add(name: "Last-Event-ID", value: lastEventId) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(30))
        } catch {
            try? await http.shutdown()
            throw error
        }
        let status = Int(response.status.code)
        guard status == 200 else {
            let body = try? await response.body.collect(upTo: 65_536)
            try? await http.shutdown()
            return EventStreamClient(status: status, contentType: response.headers.first(name: "Content-Type"),
                                     errorBody: body.map { String(buffer: $0) }, http: http, shutDown: true)
        }
        let client = EventStreamClient(status: status, contentType: response.headers.first(name: "Content-Type"), errorBody: nil, http: http)
        if readBody {
            client.reader.withLock { $0 = Task { await client.read(response.body) } }
        } else {
            // Holds the body unread: once the socket's buffers are full the server's writes block.
            client.reader.withLock { $0 = Task { try? await Task.sleep(for: .seconds(3_600)); _ = response } }
        }
        return client
    }

    private func read(_ body: HTTPClientResponse.Body) async {
        var pending = ""
        var current = Event(id: nil, event: "message", data: "")
        var hasData = false
        do {
            for try await buffer in body {
                pending += String(buffer: buffer)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                    if line.isEmpty {
                        if hasData { received.withLock { $0.events.append(current) } }
                        current = Event(id: nil, event: "message", data: "")
                        hasData = false
                    } else if line.hasPrefix(":") {
                        received.withLock { $0.comments.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces)) }
                    } else if let colon = line.firstIndex(of: ":") {
                        let field = String(line[..<colon])
                        var value = String(line[line.index(after: colon)...])
                        if value.hasPrefix(" ") { value.removeFirst() }
                        switch field {
                        case "id": current.id = value
                        case "event": current.event = value
                        case "data":
                            current.data += hasData ? "\n" + value : value
                            hasData = true
                        default: break
                        }
                    }
                }
            }
            received.withLock { $0.ended = "finished" }
        } catch {
            received.withLock { $0.ended = "\(error)" }
        }
    }

    public var events: [Event] { received.withLock { $0.events } }
    public var comments: [String] { received.withLock { $0.comments } }
    /// nil while the stream is open.
    public var ended: String? { received.withLock { $0.ended } }

    /// The events with an `id:` (the stream's own, not the connection's notices).
    public var numbered: [Event] { events.filter { $0.id != nil } }

    /// Polls until `condition` holds on what was received (a hang guard, never a timing assertion).
    public func wait(for what: String, timeout: Duration = .seconds(60), _ condition: @escaping (EventStreamClient) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("timed out waiting for \(what); received \(events.suffix(20)), ended: \(ended ?? "no")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Closes the connection.
    public func close() async {
        let task = reader.withLock { $0 }
        task?.cancel()
        if !shutDown.withLock({ was in defer { was = true }; return was }) { try? await http.shutdown() }
        await task?.value
    }

    deinit {
        reader.withLock { $0?.cancel() }
        if !shutDown.withLock({ $0 }) { http.shutdown(queue: .global()) { _ in } }
    }
}
