import Foundation
import HTTPTypes
import Hummingbird
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `POST /api/orders`: the trader's own market order, through arsenald's `arsenal.placeManualOrder` like any
/// signal (mindsetd judges an entry, then routerd places it). With an `Idempotency-Key` header a retry gets the
/// first final answer again and never places a second order (docs/api.md, "Idempotency").
enum PlaceOrder {
    struct Body: Codable {
        var symbol: String
        var side: String
        /// A decimal string ("0.002"): money is never a JSON number.
        var quantity: String
        var reduceOnly: Bool?

        static let fields: Set<String> = ["symbol", "side", "quantity", "reduceOnly"]
    }

    /// What an `Idempotency-Key` fingerprints: the request as checked, in a fixed form, so that spacing, key order
    /// or how a number is written (`0.0020` and `0.002`) do not make a retry "different", while any change of
    /// symbol, side, quantity or reduceOnly does. The quantity is the exact value without trailing zeros.
    struct Canonical: Codable {
        var route = "POST /api/orders"
        var symbol: String
        var side: String
        var quantity: String
        var reduceOnly: Bool

        var fingerprint: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return IdempotencyStore.fingerprint(String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self))
        }
    }

    /// The API's answer to a manual order. On an error status `error` is set as on every error (code and message),
    /// with the mindset's `reasons` and `codes` when it blocked the order; the outcome fields follow either way.
    struct Answer: Encodable {
        struct Problem: Encodable {
            var code: String
            var message: String
            var reasons: [String]?
            var codes: [String]?
        }

        var error: Problem?
        var outcome: String
        var clientOrderId: String
        var order: OrderRecord?
        var decision: MindsetDecision?
        var signal: Signal
        var reason: String?
    }

    /// An answer and whether it is final (stored for the key) or not (the key is released).
    struct Reply {
        var status: HTTPResponse.Status
        var body: Data
        var isFinal: Bool
    }

    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    static func handle(_ request: Request, context: GatewayContext, environment: GatewayEnvironment) async throws -> Response {
        let identity = try context.requireIdentity()
        let key = try idempotencyKey(request.headers)
        guard let body = try await JSONBody.decode(Body.self, from: request, context: context, fields: Body.fields) else {
            throw APIError(.badRequest, "bad_json", "a JSON object body is required")
        }
        let (manual, canonical) = try checked(body)
        // Rows written before the quantity was normalised hold the fingerprint of the text as typed: a retry of such a
        // request, typed the same, must still find its answer (they expire with the retention, 7 days).
        var typed = canonical
        typed.quantity = body.quantity
        let legacyHash = typed.quantity == canonical.quantity ? nil : typed.fingerprint

        guard let key else {
            return response(try await place(manual, environment: environment, idempotent: false))
        }
        let store = environment.idempotency
        let tokenId = identity.token.id
        let claim: IdempotencyClaim
        do {
            claim = try await store.claim(tokenId: tokenId, key: key, requestHash: canonical.fingerprint, legacyHash: legacyHash,
                                          now: environment.clock())
        } catch {
            context.logger.error("idempotency key not claimed; nothing sent", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot record the Idempotency-Key now; nothing was sent")
        }
        switch claim {
        case .replay(let status, let stored):
            var response = Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: stored)))
            response.headers[replayedHeader] = "true"
            return response
        case .inProgress:
            throw APIError(.conflict, "idempotency_in_progress",
                           "a request with this Idempotency-Key is still being processed; retry once it has answered",
                           headers: [.retryAfter: "1"])
        case .mismatch:
            // Not "send it again with a new key": the first request under this key may well have placed its order.
            throw APIError(.unprocessableContent, "idempotency_key_reused",
                           "this Idempotency-Key was already used for a different order (symbol, side, quantity or reduceOnly); "
                           + "the first request under it may have been placed: check GET /api/orders before sending another order")
        case .claimed:
            break
        }
        var keyed = manual
        keyed.idempotencyKey = IdempotencyStore.arsenalKey(tokenId: tokenId, key: key)
        let reply: Reply
        do {
            reply = try await place(keyed, environment: environment, idempotent: true)
        } catch {
            await release(store, tokenId: tokenId, key: key, context: context)
            throw error
        }
        if reply.isFinal {
            do {
                try await store.complete(tokenId: tokenId, key: key, status: Int(reply.status.code), body: reply.body, now: environment.clock())
            } catch {
                // The order's answer stands; a retry finds the key released and asks arsenald again under the same
                // arsenald key, which answers with the order already placed.
                context.logger.error("idempotent answer not stored", metadata: ["error": "\(error)"])
                await release(store, tokenId: tokenId, key: key, context: context)
            }
        } else {
            await release(store, tokenId: tokenId, key: key, context: context)
        }
        return response(reply)
    }

    static func release(_ store: IdempotencyStore, tokenId: String, key: String, context: GatewayContext) async {
        do {
            try await store.release(tokenId: tokenId, key: key)
        } catch {
            context.logger.error("idempotency key not released; it is taken over once stale", metadata: ["error": "\(error)"])
        }
    }

    static func response(_ reply: Reply) -> Response {
        Response(status: reply.status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// 1–255 visible ASCII characters (Stripe's limit), one header.
    static func idempotencyKey(_ headers: HTTPFields) throws -> String? {
        let values = headers[values: keyHeader]
        guard let key = values.first else { return nil }
        guard values.count == 1 else { throw APIError.badRequest("send one Idempotency-Key header, not \(values.count)") }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.badRequest("Idempotency-Key must be 1–255 visible ASCII characters")
        }
        return key
    }

    static func checked(_ body: Body) throws -> (ManualOrderRequest, Canonical) {
        let symbol = body.symbol.uppercased()
        guard (1...32).contains(symbol.utf8.count), symbol.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "./_-".contains($0)) }) else {
            throw APIError.unprocessable("symbol must be 1–32 letters, digits and . / _ -")
        }
        guard let side = Side(rawValue: body.side) else {
            throw APIError.unprocessable("side must be buy or sell, got '\(LogExcerpt.of(body.side, limit: 20))'")
        }
        // Strictly plain (no exponent, sign or bare point), as the message promises: `1e3` is not 1000 of anything.
        guard let quantity = ExactDecimal(plainText: body.quantity) else {
            throw APIError.unprocessable("quantity must be a plain decimal string such as \"0.002\" (digits, at most one point with "
                                         + "digits on both sides), got '\(LogExcerpt.of(body.quantity, limit: 40))'")
        }
        guard quantity.isPositive else { throw APIError.unprocessable("quantity must be positive, got \(body.quantity)") }
        let reduceOnly = body.reduceOnly ?? false
        return (ManualOrderRequest(symbol: symbol, side: side, quantity: quantity, reduceOnly: reduceOnly ? true : nil),
                Canonical(symbol: symbol, side: side.rawValue, quantity: quantity.normalized.description, reduceOnly: reduceOnly))
    }

    /// Asks arsenald and turns its answer into the API's. Thrown: arsenald refused or could not be asked (never
    /// final: nothing of this request is stored under its key).
    static func place(_ manual: ManualOrderRequest, environment: GatewayEnvironment, idempotent: Bool) async throws -> Reply {
        let result: ManualOrderResult
        do {
            result = try await environment.daemons.arsenal.call(Methods.arsenalPlaceManualOrder, manual, timeout: OrderRoutes.placeTimeout)
        } catch let error as IPCError {
            switch error.code {
            case .timeout, .connectionLost:
                let retry = idempotent
                    ? "retry with the same Idempotency-Key: it never places a second order"
                    : "look for it in GET /api/orders before placing it again (an Idempotency-Key makes retries safe)"
                throw APIError(.serviceUnavailable, "daemon_unavailable",
                               "arsenald did not answer (\(error.code.rawValue)); the order may have been placed: \(retry)")
            case .badRequest:
                throw APIError.unprocessable(error.message)
            default:
                throw APIError.from(error, daemon: "arsenald")
            }
        }
        let clientOrderId = result.order?.clientOrderId ?? "bb-\(result.signal.requestId)"
        var answer = Answer(outcome: result.outcome.rawValue, clientOrderId: clientOrderId, order: result.order,
                            decision: result.decision, signal: result.signal, reason: result.reason)
        let status: HTTPResponse.Status
        var isFinal = true
        switch result.outcome {
        case .placed:
            if let order = result.order, order.status == .rejected {
                status = .unprocessableContent
                answer.error = .init(code: "order_rejected", message: "the order was rejected: \(order.rejectReason ?? "no reason given")")
            } else {
                status = .created
            }
        case .blocked:
            status = .conflict
            let reasons = result.decision?.reasons ?? []
            answer.error = .init(code: "order_blocked", message: "the mindset blocked the order: \(reasons.joined(separator: "; "))",
                                 reasons: reasons, codes: result.decision?.codes ?? [])
        case .notSent:
            status = .conflict
            answer.error = .init(code: "order_not_sent", message: "the order was not sent: \(result.reason ?? "no reason given")")
        case .unknown:
            // Sent, its outcome not known yet: not an answer to keep. A retry with the key asks arsenald again, which
            // answers with the order (or conflict while it is still in flight); never a second order.
            status = .accepted
            isFinal = false
        }
        return Reply(status: status, body: try JSONResponse.data(answer), isFinal: isFinal)
    }
}
