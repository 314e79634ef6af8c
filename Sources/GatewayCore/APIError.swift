import Foundation
import Hummingbird
import BagbotIPC

/// Every error the API returns: `{"error":{"code":"…","message":"…"}}` with the matching status.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(Body(error: .init(code: code, message: message)), status: status)
    }

    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }
    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }

    /// Maps a daemon's IPC error onto HTTP: unreachable daemons are 503, their refusals keep their meaning.
    public static func from(_ error: Error, daemon: String) -> APIError {
        guard let ipc = error as? IPCError else { return APIError(.internalServerError, "internal", "\(error)") }
        switch ipc.code {
        case .unavailable, .timeout, .connectionLost: return APIError(.serviceUnavailable, "daemon_unavailable", "\(daemon) is unavailable: \(ipc.message)")
        case .badRequest: return APIError(.badRequest, "bad_request", ipc.message)
        case .notFound: return APIError(.notFound, "not_found", ipc.message)
        case .conflict: return APIError(.conflict, "conflict", ipc.message)
        case .tradingPaused: return APIError(.conflict, "trading_paused", ipc.message)
        case .forbidden: return APIError(.forbidden, "forbidden", ipc.message)
        default: return APIError(.internalServerError, ipc.code.rawValue, ipc.message)
        }
    }
}

enum JSONResponse {
    static func make<Body: Encodable>(_ body: Body, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(body)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
