import Foundation
import Hummingbird
import Logging
import NIOCore
import BagbotIPC

/// Every error the API returns: `{"error":{"code":"…","message":"…"}}` with the matching status.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Extra response fields (`Allow` on a 405, `WWW-Authenticate` on a 401).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    struct Body: Codable {
        struct Detail: Codable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The JSON response; cannot fail (the body is two strings).
    func response() -> Response {
        var response = (try? JSONResponse.make(Body(error: .init(code: code, message: message)), status: status))
            ?? Response(status: .internalServerError)
        for field in headers { response.headers.append(field) }
        return response
    }

    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func unauthorized(_ code: String, _ message: String) -> APIError {
        // RFC 6750 §3: a 401 names the scheme; a presented but refused token is `invalid_token`.
        let challenge = code == "token_missing" ? "Bearer realm=\"bagbot\"" : "Bearer realm=\"bagbot\", error=\"invalid_token\""
        return APIError(.unauthorized, code, message, headers: [.wwwAuthenticate: challenge])
    }
    public static func forbidden(_ code: String, _ message: String) -> APIError { APIError(.forbidden, code, message) }
    public static func unprocessable(_ message: String) -> APIError { APIError(.unprocessableContent, "invalid_value", message) }

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

    /// Any error a route or middleware throws, as the API's error: an APIError stays itself; Hummingbird's own
    /// (no route, body too large, bad request) keep their status with a code; anything else is a 500 whose details
    /// go to the log, not to the client.
    static func normalize(_ error: Error, request: Request, logger: Logger) -> APIError {
        if let error = error as? APIError { return error }
        if let error = error as? TokenStoreError {
            switch error {
            case .notFound(let message): return APIError(.notFound, "not_found", message)
            case .conflict(let code, let message): return APIError(.conflict, code, message)
            }
        }
        if let error = error as? any HTTPResponseError {
            let headers = (error as? HTTPError)?.headers ?? [:]
            let detail = (error as? HTTPError)?.body
            switch error.status {
            case .notFound:
                return APIError(.notFound, "not_found",
                                "no route \(request.method.rawValue) \(LogExcerpt.of(request.uri.path, limit: 100))", headers: headers)
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, "method_not_allowed", detail ?? "method not allowed", headers: headers)
            case .contentTooLarge:
                return APIError(.contentTooLarge, "payload_too_large",
                                "the request body is larger than \(GatewayContext.maximumBodyBytes) bytes", headers: headers)
            case let status where status.code < 500:
                return APIError(status, status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
                                detail ?? status.reasonPhrase, headers: headers)
            default:
                break
            }
        }
        logger.error("request failed", metadata: ["error": "\(error)", "path": "\(LogExcerpt.of(request.uri.path, limit: 100))"])
        return APIError(.internalServerError, "internal", "internal error; the gateway's log has the details")
    }
}

enum JSONResponse {
    /// The API's JSON: ISO 8601 dates, sorted keys (`APIJSON`).
    static func data<Body: Encodable>(_ body: Body) throws -> Data {
        try APIJSON.data(body)
    }

    static func make<Body: Encodable>(_ body: Body, status: HTTPResponse.Status = .ok) throws -> Response {
        make(body: try self.body(body), status: status)
    }

    /// The encoded answer, for answers shared between requests (`CoalescedRead`).
    static func body<Body: Encodable>(_ body: Body) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        try APIJSON.encode(body, appendingTo: &buffer)
        return buffer
    }

    static func make(body buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }
}
