import BagbotIPC
import Foundation

/// What a Binance REST answer means for an order and for the connection (binance-spot-api-docs: rest-api.md "HTTP
/// Return Codes", errors.md). The rule that matters most: a 5xx, -1006 or -1007 (or no answer at all) is **not** a
/// failure — the execution status is unknown, so the order is looked up by its client order id, never sent again.
public enum BinanceOutcome: Sendable, Equatable {
    case success
    /// Binance refused it; the order never worked there. The code and message are kept for the record.
    case rejected(code: Int, message: String)
    /// It may have executed: look it up.
    case unknown(String)
    /// "Duplicate order sent." (-2010): an order with this client order id exists there; look it up.
    case duplicate(String)
    /// "Unknown order sent." / -2013: Binance has no such order (a look-up's or a cancel's answer).
    case noSuchOrder(String)
    /// -1021: the request's timestamp was outside recvWindow: resynchronise the clock. Nothing executed.
    case clockSkew(String)
    /// -1013 for a filter: the symbol's rules may have changed; read `exchangeInfo` again. Nothing executed.
    case filterFailure(code: Int, message: String)
    /// 429 (or -1003): back off until the time given; nothing more may be sent meanwhile.
    case rateLimited(retryAfterSeconds: Int?, message: String)
    /// -1015 (a 429 without `Retry-After`): the account's unfilled order count is at its limit (rest-api.md "Unfilled
    /// Order Count": counted per account, not per IP). New orders wait for that count's window to end; cancels and
    /// reads may go on (holding them would hold a trader's exits). Nothing executed.
    case tooManyOrders(String)
    /// 418: the IP is banned until the time given; not one request may leave meanwhile.
    case banned(retryAfterSeconds: Int?, message: String)

    /// `status`: the HTTP status (nil when no answer came: a timeout or a lost connection); `body`: the answer's
    /// bytes (`{"code":-2010,"msg":"…"}` on errors); `retryAfter`: the `Retry-After` header.
    public static func of(status: Int?, body: [UInt8], retryAfter: String?) -> BinanceOutcome {
        guard let status else { return .unknown("no answer from Binance (timeout or connection lost)") }
        // A success's body is the answer itself, never an error: not read here (it was a whole JSON parse per answer).
        if (200..<300).contains(status) { return .success }
        let error = BinanceErrorBody.parse(body)
        let message = error?.message ?? "HTTP \(status)"
        // Capped at 3 days, Binance's longest ban: a wrong header must not stop every request (cancels too) for good.
        let seconds = retryAfter.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { min(max($0, 0), 3 * 86_400) }
        if let error, error.code == -1015, (400..<500).contains(status), status != 418 {
            return .tooManyOrders("Binance -1015: \(error.message)")
        }
        switch status {
        case 418:
            return .banned(retryAfterSeconds: seconds, message: message)
        case 429:
            return .rateLimited(retryAfterSeconds: seconds, message: message)
        case 403:
            // rest-api.md: a WAF rule was violated, which "can indicate a rate limit violation": back off as for a 429
            // (the request was blocked in front of Binance's engine, so an order was not processed).
            return .rateLimited(retryAfterSeconds: seconds, message: "HTTP 403 from Binance's web application firewall: \(message)")
        case 500...:
            // "It is important to NOT treat this as a failure operation; the execution status is UNKNOWN."
            return .unknown("Binance answered HTTP \(status): \(message)")
        default:
            break
        }
        guard let error else { return .rejected(code: 0, message: "HTTP \(status) without Binance's error body") }
        switch error.code {
        case -1006, -1007:
            return .unknown("Binance \(error.code): \(error.message)")
        case -1003:
            return .rateLimited(retryAfterSeconds: seconds, message: "Binance \(error.code): \(error.message)")
        case -1021:
            return .clockSkew(error.message)
        case -2013:
            return .noSuchOrder(error.message)
        case -2010, -2011, -1010, -2038:
            if error.message.hasPrefix("Duplicate order sent") { return .duplicate(error.message) }
            if error.message.hasPrefix("Unknown order sent") { return .noSuchOrder(error.message) }
            return .rejected(code: error.code, message: error.message)
        case -1013:
            return .filterFailure(code: error.code, message: error.message)
        default:
            return .rejected(code: error.code, message: error.message)
        }
    }
}

extension BinanceOutcome {
    /// Error codes that mean Binance did not process a new order (errors.md): the request itself was refused
    /// (authentication, signature, parameters, filters, the order rate, an unsupported operation, or the order as
    /// such: -2010 other than "Duplicate order sent."). Any other code on an order, and a 4xx without Binance's
    /// error body, may hide an execution (-1000 UNKNOWN, -1001 DISCONNECTED, -1008 SERVER_BUSY, a proxy's 4xx): the
    /// order is looked up, never taken for refused.
    public static func newOrderWasNotProcessed(code: Int) -> Bool {
        switch code {
        case -1002, -1003, -1013, -1014, -1015, -1020, -1022, -1199 ... -1100, -2010, -2014, -2015: true
        default: false
        }
    }
}

/// Binance's error body: `{"code": -1121, "msg": "Invalid symbol."}`.
struct BinanceErrorBody: Decodable, Equatable {
    let code: Int
    let message: String

    enum CodingKeys: String, CodingKey {
        case code
        case message = "msg"
    }

    static func parse(_ body: [UInt8]) -> BinanceErrorBody? {
        guard !body.isEmpty, body.count <= 64 * 1024 else { return nil }
        return try? ExchangeJSON.decode(BinanceErrorBody.self, from: body)
    }
}
