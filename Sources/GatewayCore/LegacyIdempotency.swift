import Foundation
import BagbotDomain
import BagbotIPC

/// Keys given up before idempotency was per owner. A v6 gateway gave arsenald a key derived from the *token*; when
/// arsenald did not answer in time, the key was released and left no row, yet the order may exist under
/// `bb-m-<token-derived key>`. A retry after the upgrade derives the key from the owner, which arsenald does not
/// know: without this look-up it would be a second order. So while such keys can still be retried (7 days from the
/// upgrade, `idempotency_legacy_tokens`), a key claimed anew is first looked for at routerd under each of the owner's
/// old derivations, and the order found (if any) is the one this request names.
enum LegacyIdempotency {
    /// The arsenald key for a claim that found no row: the old derivation whose order routerd has, else `arsenalKey`.
    static func resolve(owner: String, key: String, arsenalKey: String, claimedAt: Date, environment: GatewayEnvironment) async throws -> String {
        let candidates: [String]
        do {
            candidates = try await environment.idempotency.legacyArsenalKeys(owner: owner, key: key, now: environment.clock())
        } catch {
            throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot read its Idempotency-Key records now; nothing was sent")
        }
        for candidate in candidates {
            let page: OrdersResponse
            do {
                page = try await environment.daemons.router.call(Methods.routerOrders, OrdersQuery(clientOrderId: "bb-m-\(candidate)", limit: 1))
            } catch {
                throw APIError(.serviceUnavailable, "daemon_unavailable",
                               "routerd cannot say whether this Idempotency-Key placed an order before the gateway's upgrade (\(error)); "
                               + "nothing was sent, retry with the same key")
            }
            guard !page.orders.isEmpty else { continue }
            do {
                try await environment.idempotency.adopt(owner: owner, key: key, arsenalKey: candidate, claimedAt: claimedAt)
            } catch {
                throw APIError(.serviceUnavailable, "storage_unavailable", "the gateway cannot record the Idempotency-Key now; nothing was sent")
            }
            return candidate
        }
        return arsenalKey
    }
}
