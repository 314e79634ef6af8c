import Foundation
import BagbotDomain
import BagbotIPC

/// How orders whose fate is not known are settled (`router.reconcile` in `bagbot.yaml`).
public struct ReconciliationSettings: Sendable, Equatable {
    /// Between two lookups of an order the venue did not know.
    public var lookupInterval: Duration
    /// Lookups that find nothing before an order sent to the venue is recorded as rejected (`not_found_at_venue`).
    public var maxMisses: Int

    public init(lookupInterval: Duration = .seconds(2), maxMisses: Int = 5) {
        self.lookupInterval = lookupInterval
        self.maxMisses = maxMisses
    }
}

/// Reconciliation: each order that is not final is looked up at its venue by client order id, never sent
/// again. Found: its state and any missed fills are adopted (fills once per venue trade id). Not found and
/// never sent (`pending_new`): rejected with reason `never_sent`. Not found after `sent`: looked up again every
/// `lookupInterval`, and only after `maxMisses` misses rejected (`not_found_at_venue`); meanwhile new orders
/// for its symbol wait, and trading goes on for the others.
extension RouterService {
    /// Every venue's orders (at start, before new orders are accepted).
    func reconcileAll() async throws {
        for order in try await store.nonFinalOrders() { await settle(order) }
        logger.notice("orders of the last run settled with the venues", metadata: ["still_unsettled": "\(unsettled.count)"])
    }

    /// One venue's orders (after it reconnects).
    func reconcile(venue: Venue) async throws {
        for order in try await store.nonFinalOrders() where order.venue == venue { await settle(order) }
    }

    /// Looks up once more every order still being settled; the daemon calls it every `lookupInterval`.
    public func settleUnsettled() async {
        await exclusively {
            if booksMayBeStale { try? await loadStrategyBooks() }
            for clientOrderId in unsettled.keys.sorted() {
                let found: OrderRecord?
                do {
                    found = try await store.order(clientOrderId: clientOrderId)
                } catch {
                    continue
                }
                guard let stored = found else {
                    // Never stored (an insert that did not land, or an order routerd never had): nothing to settle.
                    unsettled[clientOrderId] = nil
                    continue
                }
                if stored.status.isFinal {
                    // Its record landed although the write reported an error: subscribers hear of it now (they
                    // apply each fill once, by sequence).
                    guard let fills = try? await store.fills(ofOrder: clientOrderId) else { continue }
                    for fill in fills { publish(fill) }
                    events.publish(Events.order, topic: Topics.orders, body: stored, requestId: stored.requestId)
                    unsettled[clientOrderId] = nil
                } else {
                    await settle(stored)
                }
            }
        }
    }

    /// Runs `settleUnsettled` every `lookupInterval` until cancelled.
    public func runReconciliation() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: reconciliation.lookupInterval)
            if Task.isCancelled { return }
            await settleUnsettled()
        }
    }

    /// One lookup of one order that is not final.
    private func settle(_ order: OrderRecord) async {
        guard let venue = venues[order.venue] else {
            logger.error("an order's venue is not configured; it stays as it is", metadata: [
                "client_order_id": "\(order.clientOrderId)", "venue": "\(order.venue.rawValue)",
            ])
            return
        }
        let report: VenueOrderReport?
        do {
            report = try await venue.order(clientOrderId: order.clientOrderId, symbol: order.symbol)
        } catch {
            // Not known either way: looked up again later.
            unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
            logger.warning("could not look an order up at its venue; trying again", metadata: [
                "client_order_id": "\(order.clientOrderId)", "error": "\(error)",
            ])
            return
        }
        if let report {
            let (recorded, agrees) = await recordReport(report, for: order, reason: "reconciled with \(order.venue.rawValue)")
            // Settled once the record agrees with a venue that knows the order's fate (working or ended),
            // whether or not this lookup changed anything.
            if agrees && (report.status.isFinal || report.status == .acknowledged || report.status == .partiallyFilled) {
                unsettled[order.clientOrderId] = nil
            } else {
                unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
            }
            logger.notice("reconciled an order with its venue", metadata: [
                "client_order_id": "\(order.clientOrderId)", "was": "\(order.status.rawValue)", "now": "\(recorded.status.rawValue)",
            ])
            return
        }
        if order.status == .pendingNew {
            if (try? await rejectNeverSent(order)) != nil {
                unsettled[order.clientOrderId] = nil
                logger.warning("an order that never left the machine is rejected", metadata: ["client_order_id": "\(order.clientOrderId)"])
            }
            return
        }
        var entry = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
        entry.misses += 1
        unsettled[order.clientOrderId] = entry
        guard entry.misses >= reconciliation.maxMisses else { return }
        // The venue never had it: rejected, or expired if it had been acknowledged and has since vanished.
        let ended = order.status == .acknowledged || order.status == .partiallyFilled
        var settled = order
        settled.status = ended ? .expired : .rejected
        settled.rejectReason = "\(RouterService.notFoundAtVenue): \(order.venue.rawValue) did not know the order after \(entry.misses) lookups"
        settled.updatedAt = Date()
        if await transition(settled, reason: settled.rejectReason ?? "not_found_at_venue", expecting: order.status) {
            unsettled[order.clientOrderId] = nil
            logger.warning("an order its venue never had is settled", metadata: [
                "client_order_id": "\(order.clientOrderId)", "status": "\(settled.status.rawValue)",
            ])
        }
    }
}
