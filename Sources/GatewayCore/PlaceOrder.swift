import Foundation
import HTTPTypes
import Hummingbird
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `POST /api/orders`: the trader's own market order, through arsenald's `arsenal.placeManualOrder` like any
/// signal (mindsetd judges an entry, then routerd places it). The `Idempotency-Key` header is required: a retry gets
/// the first final answer again and never places a second order (docs/api.md, "Idempotency"), which is what makes
/// "the order may have been placed" (504 `order_outcome_unknown`) something a client can act on safely.
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
        /// Absent only when arsenald's answer never came or could not be read.
        var signal: Signal?
        var reason: String?
    }

    /// An answer and whether it is final (stored for the key) or not (the key is released).
    struct Reply {
        var status: HTTPResponse.Status
        var body: Data
        var isFinal: Bool
        /// The order's request id (arsenald's signal), which every daemon's lines about it carry: `bagbot trace`.
        var requestId: String?
        var outcome: String?
        /// The key's order as arsenald found it already placed (this request sent nothing).
        var alreadyPlaced: OrderRecord?
    }

    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    static func handle(_ request: Request, context: GatewayContext, environment: GatewayEnvironment) async throws -> Response {
        let identity = try context.requireIdentity()
        // Required: without a key, a timeout leaves the client no safe way to find out or retry (docs/api.md).
        guard let key = try idempotencyKey(request.headers) else {
            throw APIError(.badRequest, "idempotency_key_required",
                           "POST /api/orders needs an Idempotency-Key header (1–255 visible ASCII characters; a UUID is a good choice): "
                           + "with it a retry after a timeout never places a second order")
        }
        guard let body = try await JSONBody.decode(Body.self, from: request, context: context, fields: Body.fields) else {
            throw APIError(.badRequest, "bad_json", "a JSON object body is required")
        }
        let (manual, canonical) = try checked(body)
        // Rows written before the quantity was normalised hold the fingerprint of the text as typed: a retry of such a
        // request, typed the same, must still find its answer (they expire with the retention, 7 days).
        var typed = canonical
        typed.quantity = body.quantity
        let legacyHash = typed.quantity == canonical.quantity ? nil : typed.fingerprint

        let store = environment.idempotency
        // Keys are the owner's: a rotated token, or another token of the owner, retrying with the key is the same client.
        let owner = identity.owner
        let claim: IdempotencyClaim
        do {
            claim = try await store.claim(owner: owner, key: key, tokenId: identity.token.id, requestHash: canonical.fingerprint,
                                          legacyHash: legacyHash, now: environment.clock())
        } catch {
            context.logger.error("idempotency key not claimed; nothing sent", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot record the Idempotency-Key now; nothing was sent")
        }
        let claimedKey: String
        let claimedAnew: Bool
        let claimedAt: Date
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
        case .claimed(let arsenalKey, let isNew, let at):
            claimedKey = arsenalKey
            claimedAnew = isNew
            claimedAt = at
        }
        var keyed = manual
        var reply: Reply
        do {
            let arsenalKey = claimedAnew
                ? try await LegacyIdempotency.resolve(owner: owner, key: key, arsenalKey: claimedKey, claimedAt: claimedAt, environment: environment)
                : claimedKey
            keyed.idempotencyKey = arsenalKey
            // Before it is sent: an order whose owner is not on record could be cancelled by an admin only.
            do {
                try await environment.orderOwners.record(clientOrderId: "bb-m-\(arsenalKey)", owner: owner, tokenId: identity.token.id,
                                                         now: environment.clock())
            } catch {
                context.logger.error("manual order's owner not recorded; nothing sent", metadata: ["error": "\(error)"])
                throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot record the order's owner now; nothing was sent")
            }
            reply = try await place(keyed, environment: environment)
            if claimedAnew, arsenalKey == claimedKey, let earlier = reply.alreadyPlaced,
               earlier.createdAt < environment.clock().addingTimeInterval(-store.retention) {
                // No row named the key, and its order is older than keys are kept: the key was used again, not retried.
                // Answered "placed", the client would believe an order went out now when nothing was sent. (A younger
                // order is a retry whose row is gone — released by a gateway before keys kept their rows, or a
                // restored database — and is answered as one.)
                reply = keyForgotten(earlier)
            }
            // The gateway's line of the order's trace (GET /api/logs?requestId=…, `bagbot trace`).
            context.logger.info("manual order", metadata: [
                "request_id": "\(reply.requestId ?? "-")", "outcome": "\(reply.outcome ?? "unknown")", "status": "\(reply.status.code)",
                "symbol": "\(manual.symbol)", "side": "\(manual.side.rawValue)", "quantity": "\(manual.quantity)", "owner": "\(owner)",
            ])
        } catch {
            // Thrown: nothing of this request was sent. A key claimed anew names no order, so it is forgotten (a
            // retry, perhaps corrected, starts afresh: the legacy look-up included); one that existed may name the
            // order of an earlier request, and keeps its fingerprint.
            if claimedAnew {
                do {
                    try await store.forget(owner: owner, key: key, claimedAt: claimedAt)
                } catch {
                    context.logger.error("idempotency key not forgotten; it is taken over once stale", metadata: ["error": "\(error)"])
                }
            } else {
                await release(store, owner: owner, key: key, claimedAt: claimedAt, context: context)
            }
            throw error
        }
        if reply.isFinal {
            do {
                let stored = try await store.complete(owner: owner, key: key, claimedAt: claimedAt, status: Int(reply.status.code),
                                                      body: reply.body, now: environment.clock())
                if !stored {
                    context.logger.notice("idempotent answer not stored: the key's claim was taken over by a retry, which stores its own")
                }
            } catch {
                // The order's answer stands; a retry finds the key released and asks arsenald again under the same
                // arsenald key, which answers with the order already placed.
                context.logger.error("idempotent answer not stored", metadata: ["error": "\(error)"])
                await release(store, owner: owner, key: key, claimedAt: claimedAt, context: context)
            }
        } else {
            await release(store, owner: owner, key: key, claimedAt: claimedAt, context: context)
        }
        return response(reply)
    }

    /// 422 `idempotency_key_reused`, final: the key's order was placed under it long ago (`earlier`), not by this request.
    static func keyForgotten(_ earlier: OrderRecord) -> Reply {
        let message = "this Idempotency-Key already names order \(earlier.clientOrderId), placed \(ISO8601DateFormatter().string(from: earlier.createdAt)) "
            + "(\(earlier.side.rawValue) \(earlier.quantity) \(earlier.symbol)), longer ago than keys are kept; nothing was sent. "
            + "Use a new key for a new order"
        let answer = Answer(error: .init(code: "idempotency_key_reused", message: message), outcome: ManualOrderResult.Outcome.notSent.rawValue,
                            clientOrderId: earlier.clientOrderId, order: earlier)
        let body = (try? JSONResponse.data(answer))
            ?? Data(#"{"error":{"code":"idempotency_key_reused","message":"this Idempotency-Key already names an earlier order; nothing was sent"},"outcome":"not_sent"}"#.utf8)
        return Reply(status: .unprocessableContent, body: body, isFinal: true, outcome: "not_sent")
    }

    static func release(_ store: IdempotencyStore, owner: String, key: String, claimedAt: Date, context: GatewayContext) async {
        do {
            try await store.release(owner: owner, key: key, claimedAt: claimedAt)
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

    /// arsenald's answers that mean the order certainly was not sent: its refusals of the request (a bad value, an
    /// order in flight, no price yet, routerd unable to say whether the key's order exists), a refusal of the frame,
    /// and a call the gateway never wrote (`unavailable`). Anything else, and the order may have been placed.
    static let arsenalRefusals: Set<IPCErrorCode> = [
        .badRequest, .conflict, .keyReused, .unavailable, .unknownMethod, .unsupportedVersion, .helloRequired, .frameTooLarge,
    ]

    /// Asks arsenald and turns its answer into the API's. Thrown: arsenald refused the request or could not be asked
    /// (nothing sent; never final: nothing of this request is stored under its key). Whatever may have placed the
    /// order — no answer in time, a lost connection, an answer that cannot be read, arsenald's own "unknown" — is
    /// the reply 504 `order_outcome_unknown`, not final either, never a 500 and never "not sent".
    static func place(_ manual: ManualOrderRequest, environment: GatewayEnvironment) async throws -> Reply {
        // arsenald names the order after the key: known before it answers, so "look it up" can say where.
        let keyedOrderId = manual.idempotencyKey.map { "bb-m-\($0)" } ?? ""
        let result: ManualOrderResult
        do {
            result = try await environment.daemons.arsenal.call(
                Methods.arsenalPlaceManualOrder, manual, timeout: environment.timeouts.placeOrder, requestId: manual.keyedRequestId)
        } catch let error as IPCError where arsenalRefusals.contains(error.code) {
            if error.code == .badRequest { throw APIError.unprocessable(error.message) }
            if error.code == .keyReused {
                // The gateway forgot the key (kept 7 days) but arsenald's order under it is another one.
                throw APIError(.unprocessableContent, "idempotency_key_reused",
                               "this Idempotency-Key already names another order, placed earlier (\(error.message)); "
                               + "check GET /api/orders, and use a new key only for an order you mean to place")
            }
            throw APIError.from(error, daemon: "arsenald")
        } catch {
            let cause = (error as? IPCError).map { "arsenald gave no usable answer (\($0.code.rawValue): \($0.message))" }
                ?? "arsenald gave no usable answer (\(error))"
            return outcomeUnknown(Answer(outcome: ManualOrderResult.Outcome.unknown.rawValue, clientOrderId: keyedOrderId), cause: cause)
        }
        let clientOrderId = result.order?.clientOrderId ?? "bb-\(result.signal.requestId)"
        var answer = Answer(outcome: result.outcome.rawValue, clientOrderId: clientOrderId, order: result.order,
                            decision: result.decision, signal: result.signal, reason: result.reason)
        let status: HTTPResponse.Status
        switch result.outcome {
        case .placed:
            if let order = result.order, order.status == .rejected {
                status = .unprocessableContent
                answer.error = .init(code: "order_rejected", message: "the order was rejected: \(order.rejectReason ?? "no reason given")")
            } else if let order = result.order, order.status == .unknown || order.status == .sent {
                // routerd itself does not know yet whether the venue took it: "maybe" is not "placed".
                return outcomeUnknown(answer, cause: "routerd has it as \(order.status.rawValue) (the venue's answer is not known yet; it is being looked up)")
            } else if let order = result.order, order.status == .pendingNew {
                // Stored but never handed to the venue (a record from before the order and its `sent` were one write).
                status = .conflict
                answer.outcome = ManualOrderResult.Outcome.notSent.rawValue
                answer.error = .init(code: "order_not_sent", message: "the order was stored but never sent to the venue (pending_new)")
            } else if let order = result.order, order.status.isFinal, !order.filledQuantity.isPositive {
                // Expired or cancelled with nothing traded (a market close with no liquidity): not "placed".
                status = .unprocessableContent
                answer.error = .init(code: "order_not_filled", message: "the order ended \(order.status.rawValue) with nothing filled; nothing was traded")
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
            return outcomeUnknown(answer, cause: "arsenald sent it, and \(result.reason ?? "its outcome is not known yet")")
        }
        guard let body = try? JSONResponse.data(answer) else {
            // The order's answer came but cannot be given: say what is certain, that it may have been placed.
            return outcomeUnknown(Answer(outcome: ManualOrderResult.Outcome.unknown.rawValue, clientOrderId: clientOrderId),
                                  cause: "its answer could not be encoded")
        }
        return Reply(status: status, body: body, isFinal: true, requestId: result.signal.requestId, outcome: result.outcome.rawValue,
                     alreadyPlaced: result.alreadyPlaced == true ? result.order : nil)
    }

    /// 504 `order_outcome_unknown`: the order may have been placed. Not final, so the key is released: a retry with it
    /// asks arsenald again, which answers with the order it has (or 409 while it is still in flight), never a second.
    static func outcomeUnknown(_ answer: Answer, cause: String) -> Reply {
        var answer = answer
        let lookUp = answer.clientOrderId.isEmpty ? "GET /api/orders" : "GET /api/orders/\(answer.clientOrderId)"
        answer.error = .init(code: "order_outcome_unknown",
                             message: "the order may have been placed: \(cause). Retry with the same Idempotency-Key (it never places a "
                                 + "second order) or look it up with \(lookUp); do not send it again under a new key")
        let body = (try? JSONResponse.data(answer))
            ?? Data(#"{"error":{"code":"order_outcome_unknown","message":"the order may have been placed"},"outcome":"unknown"}"#.utf8)
        return Reply(status: .gatewayTimeout, body: body, isFinal: false)
    }
}
