import Foundation
import BagbotDomain
import BagbotIPC

/// How orders whose fate is not known are settled (`router.reconcile` in `bagbot.yaml`).
public struct ReconciliationSettings: Sendable, Equatable {
    /// Between two lookups of an order the venue did not know.
    public var lookupInterval: Duration
    /// Lookups that find nothing before an order sent to the venue is recorded as rejected (`not_found_at_venue`).
    public var maxMisses: Int
    /// How long after it was given up such an order is looked up again, ascending (`LateLookup`).
    public var lateLookups: [Duration]

    public init(lookupInterval: Duration = .seconds(2), maxMisses: Int = 5, lateLookups: [Duration] = [.seconds(60), .seconds(600)]) {
        self.lookupInterval = lookupInterval
        self.maxMisses = maxMisses
        self.lateLookups = lateLookups
    }
}

/// An order given up as not found at its venue, still to be looked up `ReconciliationSettings.lateLookups` after.
/// Binance's -1007 says the execution status is unknown, and the order may be executed later: if the user data
/// stream misses it then, only a look-up finds it. Rebuilt from the database at start (`reconcileAll`).
/// Until its first late look-up the order is still in doubt (`isInDoubt`): new orders for its symbol wait, as for an
/// unsettled order, and a reduce-only one still counts against its position, so that a second entry or exit sent
/// meanwhile cannot double up with it if the venue executes it after all.
struct LateLookup: Sendable {
    var venue: Venue
    var symbol: String
    var strategyId: String?
    var reduceOnly: Bool
    /// What it could still execute.
    var remaining: ExactDecimal
    var givenUpAt: ContinuousClock.Instant
    /// The index in `lateLookups` of the next look-up.
    var next = 0
    /// Looked up at the next round whatever the schedule (its venue's stream came back).
    var dueNow = false
    /// Look-ups that failed in a row, and when the next may be tried (30 s, doubling to 10 minutes).
    var failures = 0
    var retryAt: ContinuousClock.Instant?
    /// `isInDoubt`: until a look-up at or after the first late one answers or fails.
    private(set) var isInDoubt = true

    init(_ order: OrderRecord, givenUpAt: ContinuousClock.Instant, dueNow: Bool = false) {
        venue = order.venue
        symbol = order.symbol
        strategyId = order.strategyId
        reduceOnly = order.reduceOnly
        remaining = (try? order.quantity - order.filledQuantity) ?? order.quantity
        self.givenUpAt = givenUpAt
        self.dueNow = dueNow
    }

    /// A look-up made once the first late one was due has answered "not found", or failed: the doubt is over. A
    /// failure ends it too (a venue that cannot be asked, a ban or an outage, must not hold the symbol for as long as
    /// it lasts), but not before the first late look-up's time: one made at once after a reconnect proves little.
    mutating func lookedUp(at now: ContinuousClock.Instant, first: Duration) {
        if now - givenUpAt >= first { isInDoubt = false }
    }

    /// Failed look-ups after which the order is left as given up.
    static let failureLimit = 10
    /// Late look-ups made per round of reconciliation: each is a venue round trip (Binance: the order, its trades).
    static let perRound = 2
}

/// Reconciliation: each order that is not final is looked up at its venue by client order id, never sent
/// again. Found: its state and any missed fills are adopted (fills once per venue trade id). Not found and
/// never sent (`pending_new`): rejected with reason `never_sent`. Not found after `sent`: looked up again every
/// `lookupInterval`, and only after `maxMisses` misses rejected (`not_found_at_venue`); meanwhile new orders
/// for its symbol wait, and trading goes on for the others. Given up, it is looked up again at each of
/// `lateLookups`: found then, its record follows the venue (`recordReport` revives it, or takes its fills).
extension RouterService {
    /// Every venue's orders (at start, before new orders are accepted).
    func reconcileAll() async throws {
        for order in try await store.nonFinalOrders() { await settle(order) }
        // Final orders whose fills were still being completed when the last run stopped (`completeFills`).
        for order in try await store.finalOrdersShortOfFills(updatedSince: Date().addingTimeInterval(-Self.shortFillsWindow)) {
            unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
        }
        try await resumeLateLookups()
        logger.notice("orders of the last run settled with the venues", metadata: ["still_unsettled": "\(unsettled.count)"])
    }

    /// One venue's orders (after it reconnects).
    func reconcile(venue: Venue) async throws {
        for order in try await store.nonFinalOrders() where order.venue == venue { await settle(order) }
    }

    /// A venue's order stream is up again (or for the first time): its orders are reconciled before new ones go there
    /// (issue 14: what changed while the stream was down is read over REST first). One that cannot be reconciled now
    /// (its orders unreadable from bagbot.db) keeps new orders waiting; `settleUnsettled` tries again.
    func reconcileAfterConnecting(_ venue: Venue) async {
        do {
            try await reconcile(venue: venue)
        } catch {
            reconcilePending[venue] = reconcilePending[venue] ?? Date()
            logger.error("could not reconcile a venue's orders after its order stream came back; new orders there wait until it can", metadata: [
                "venue": "\(venue.rawValue)", "error": "\(error)",
            ])
            return
        }
        if reconcilePending.removeValue(forKey: venue) != nil {
            logger.notice("venue's orders reconciled after its order stream came back; new orders go there again", metadata: ["venue": "\(venue.rawValue)"])
        }
    }

    /// Looks up once more every order still being settled; the daemon calls it every `lookupInterval`.
    public func settleUnsettled() async {
        await exclusively {
            if startUnrecorded, (try? await store.recordStart()) != nil {
                startUnrecorded = false
                logger.notice("bagbot.db took routerd's start record; orders not found are called absent again")
            }
            if booksMayBeStale { try? await loadStrategyBooks() }
            for venue in reconcilePending.keys.sorted(by: { $0.rawValue < $1.rawValue }) where venueConnections[venue]?.state == .connected {
                await reconcileAfterConnecting(venue)
            }
            for clientOrderId in unsettled.keys.sorted() {
                let found: OrderRecord?
                do {
                    found = try await store.order(clientOrderId: clientOrderId)
                } catch {
                    continue
                }
                guard let stored = found else {
                    if let sealing = unsettled[clientOrderId]?.sealing {
                        // Stored as rejected by a synced write, or left for the next round (`sealAsNeverSent`).
                        guard (try? await store.insert(sealing, durable: true)) != nil else { continue }
                        unsettled[clientOrderId] = nil
                        healthyStore = true
                        metrics.ordered(sealing.venue, .rejected)
                        logger.warning("an order whose commit failed is stored as never sent", metadata: ["client_order_id": "\(clientOrderId)"])
                        events.publish(Events.order, topic: Topics.orders, body: sealing, requestId: sealing.requestId)
                        continue
                    }
                    // Never stored (an insert that did not land, or an order routerd never had): nothing to settle.
                    unsettled[clientOrderId] = nil
                    continue
                }
                if isSealedNeverSent(stored), let sealing = unsettled[clientOrderId]?.sealing {
                    // Its one transaction before the venue landed although it reported an error (`settleFailedSend`):
                    // it was never handed to the venue.
                    guard await transition(sealing, reason: "never_sent", expecting: .sent, durable: true) else { continue }
                    unsettled[clientOrderId] = nil
                    logger.warning("an order stored as sent by a write that reported an error is rejected as never sent", metadata: [
                        "client_order_id": "\(clientOrderId)",
                    ])
                    continue
                }
                // Stored after all: nothing of it can come back that is not already here.
                unsettled[clientOrderId]?.sealing = nil
                if stored.status.isFinal {
                    guard let fills = try? await store.fills(ofOrder: clientOrderId) else { continue }
                    if Self.fillsFallShort(fills, of: stored) || (unsettled[clientOrderId]?.refusedReports ?? 0) > 0 {
                        await completeFills(of: stored)
                        continue
                    }
                    // Its record landed although the write reported an error: subscribers hear of it now (they
                    // apply each fill once, by sequence).
                    for fill in fills { publish(fill) }
                    events.publish(Events.order, topic: Topics.orders, body: stored, requestId: stored.requestId)
                    unsettled[clientOrderId] = nil
                } else {
                    await settle(stored)
                }
            }
        }
    }

    /// Runs `lookUpGivenUp` every `lookupInterval` until cancelled: beside `runReconciliation`, so a slow venue's late
    /// look-ups never delay the settling of unsettled orders.
    public func runLateLookups() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: reconciliation.lookupInterval)
            if Task.isCancelled { return }
            await lookUpGivenUp()
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

    /// Whether `fills` add up to less than `order`'s filled quantity (a sum no decimal holds counts as short).
    static func fillsFallShort(_ fills: [Fill], of order: OrderRecord) -> Bool {
        guard let sum = try? ExactDecimal.sum(fills.map(\.quantity)) else { return true }
        return sum < order.filledQuantity
    }

    /// Answered look-ups that may leave a final order's fills short (`completeFills`) before it is left as it is.
    static let shortFillLookupLimit = 30
    /// How far back a start looks for final orders still short of fills (their venue keeps them at least as long).
    static let shortFillsWindow: TimeInterval = 86_400

    /// A final order whose stored fills add up to less than its filled quantity (a venue that reported more filled than
    /// the fills it sent): its venue is asked for it again, and the fills it brings are recorded and published. arsenald
    /// keeps the order's role until they add up, so a strategy does not trade on a position smaller than it is. After
    /// `shortFillLookupLimit` answered look-ups that leave it short, it is left as it is (critical log): its fills must
    /// be recorded by hand. A look-up the venue does not answer (a ban, a back-off, an outage) does not count: it is
    /// asked again at the next round. Also after a restart (`reconcileAll`). A final order is never moved by this,
    /// whatever the venue answers (not found included).
    private func completeFills(of order: OrderRecord) async {
        guard let venue = venues[order.venue] else { return }
        var entry = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
        unsettled[order.clientOrderId] = entry
        do {
            if let report = try await venue.order(clientOrderId: order.clientOrderId, symbol: order.symbol) {
                let (_, agrees) = await recordReport(report, for: order, reason: "fills completed from \(order.venue.rawValue)")
                entry.refusedReports = agrees ? 0 : unsettled[order.clientOrderId]?.refusedReports ?? entry.refusedReports
            }
            entry.shortLookups += 1
        } catch {
            logger.warning("a final order's missing fills could not be asked for; trying again", metadata: [
                "client_order_id": "\(order.clientOrderId)", "error": "\(error)",
            ])
        }
        guard let fills = try? await store.fills(ofOrder: order.clientOrderId), let recorded = try? await store.order(clientOrderId: order.clientOrderId)
        else { return }
        guard Self.fillsFallShort(fills, of: recorded) || entry.refusedReports > 0 else {
            unsettled[order.clientOrderId] = nil
            logger.notice("a final order's missing fills are recorded", metadata: ["client_order_id": "\(order.clientOrderId)"])
            return
        }
        // Still short: kept (a report that cleared it, thinking its fills complete, does not drop it).
        unsettled[order.clientOrderId] = entry
        if entry.shortLookups >= Self.shortFillLookupLimit {
            unsettled[order.clientOrderId] = nil
            // What the record has, told once more: a write that reported an error may have landed unheard of
            // (subscribers apply each fill once, by sequence).
            for fill in fills { publish(fill) }
            events.publish(Events.order, topic: Topics.orders, body: recorded, requestId: recorded.requestId)
            logger.critical("a final order's fills still add up to less than its filled quantity, or its venue's reports of it cannot be true, after every look-up; check it at the venue and record it by hand", metadata: [
                "client_order_id": "\(order.clientOrderId)", "filled": "\(recorded.filledQuantity)", "fills": "\(fills.count)",
                "look_ups": "\(entry.shortLookups)", "refused_reports": "\(entry.refusedReports)",
            ])
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
            // A record short of fills (the venue reported more filled than the fills it sent) stays, to be completed.
            let short = await (try? store.fills(ofOrder: order.clientOrderId)).map { Self.fillsFallShort($0, of: recorded) } ?? true
            if agrees && !short && (report.status.isFinal || report.status == .acknowledged || report.status == .partiallyFilled) {
                unsettled[order.clientOrderId] = nil
            } else {
                unsettled[order.clientOrderId] = unsettled[order.clientOrderId] ?? UnsettledOrder(venue: order.venue, symbol: order.symbol, misses: 0)
            }
            // A refused report says so itself (`recordReport`): not once more every round.
            if agrees {
                logger.notice("reconciled an order with its venue", metadata: [
                    "client_order_id": "\(order.clientOrderId)", "was": "\(order.status.rawValue)", "now": "\(recorded.status.rawValue)",
                ])
            }
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
            if !reconciliation.lateLookups.isEmpty {
                lateLookups[order.clientOrderId] = LateLookup(order, givenUpAt: clock())
            }
            logger.warning("an order its venue never had is settled", metadata: [
                "client_order_id": "\(order.clientOrderId)", "status": "\(settled.status.rawValue)",
            ])
        }
    }

    /// The late look-ups of the orders given up before this start, within the last of `lateLookups`: a restart
    /// between a -1007 and the order's late execution must not lose it. Each is looked up at the next round.
    private func resumeLateLookups() async throws {
        guard let last = reconciliation.lateLookups.last else { return }
        let window = Double(last.components.seconds)
        let (now, wallClock) = (clock(), Date())
        for order in try await store.orders(givenUpSince: wallClock.addingTimeInterval(-window), reasonPrefix: Self.notFoundAtVenue) {
            let age = Duration.milliseconds(Int64(max(0, wallClock.timeIntervalSince(order.updatedAt)) * 1_000))
            // In doubt until its first look-up after this start answers, whatever its age: none answered before.
            var entry = LateLookup(order, givenUpAt: now - age, dueNow: true)
            entry.next = reconciliation.lateLookups.firstIndex { $0 > age } ?? reconciliation.lateLookups.count - 1
            lateLookups[order.clientOrderId] = entry
        }
        if !lateLookups.isEmpty {
            logger.notice("orders given up as not found before this start are looked up again", metadata: ["orders": "\(lateLookups.count)"])
        }
    }

    /// Looks up the orders given up as not found whose next late look-up is due, `LateLookup.perRound` at most. The
    /// venue is asked outside the exclusive section (a slow venue holds up no order or tick); what it says is recorded
    /// inside it, if the order is still given up then. Found, its record follows the venue; still not found after
    /// the last look-up, it is left as given up; a look-up that fails is tried later, and given up after
    /// `LateLookup.failureLimit` failures.
    func lookUpGivenUp() async {
        let now = clock()
        let due = lateLookups.filter { _, entry in
            guard entry.next < reconciliation.lateLookups.count else { return true }
            if let retryAt = entry.retryAt, now < retryAt { return false }
            return entry.dueNow || now - entry.givenUpAt >= reconciliation.lateLookups[entry.next]
        }.sorted { $0.key < $1.key }.prefix(LateLookup.perRound)
        for (clientOrderId, entry) in due {
            guard entry.next < reconciliation.lateLookups.count, let venue = venues[entry.venue] else {
                lateLookups[clientOrderId] = nil
                continue
            }
            let report: VenueOrderReport?
            do {
                report = try await venue.order(clientOrderId: clientOrderId, symbol: entry.symbol)
            } catch {
                lookUpFailed(clientOrderId, error, endsDoubt: true)
                continue
            }
            guard let report else {
                guard var later = lateLookups[clientOrderId] else { continue }
                later.failures = 0
                later.retryAt = nil
                later.lookedUp(at: clock(), first: reconciliation.lateLookups[0])
                if later.dueNow {
                    later.dueNow = false
                } else {
                    later.next += 1
                }
                lateLookups[clientOrderId] = later.next < reconciliation.lateLookups.count ? later : nil
                logger.info("an order given up as not found is still not at its venue", metadata: [
                    "client_order_id": "\(clientOrderId)", "looked_up": "\(later.next) of \(reconciliation.lateLookups.count)",
                ])
                continue
            }
            await exclusively {
                // Settled meanwhile (the venue's own event was recorded: it ended the doubt, or revived the order): the
                // answer is recorded all the same. `recordReport` never moves an order back, so an older "working"
                // answer changes nothing of an order that has ended; a newer one (the fills after the event that
                // revived it) must not be lost, for the venue remembers this answer as the order's latest and
                // sends no event for it again.
                let inDoubt = lateLookups[clientOrderId] != nil
                func failed(_ error: any Error) {
                    if inDoubt {
                        lookUpFailed(clientOrderId, error, endsDoubt: false)
                    } else if unsettled[clientOrderId] == nil {
                        // No longer in doubt: looked up again by the schedule, as any order whose record failed.
                        unsettled[clientOrderId] = UnsettledOrder(venue: entry.venue, symbol: entry.symbol, misses: 0)
                    }
                }
                let stored: OrderRecord?
                do {
                    stored = try await store.order(clientOrderId: clientOrderId)
                } catch {
                    failed(error)
                    return
                }
                guard let stored else {
                    lateLookups[clientOrderId] = nil
                    return
                }
                // Recorded whatever happened meanwhile (its own event may have revived it, and this answer be its
                // fill): `recordReport` never moves an order back except to revive one still given up.
                let (recorded, agrees) = await recordReport(report, for: stored, reason: "found at \(entry.venue.rawValue) after it was given up")
                guard agrees else {
                    failed(IPCError(.internal, "what the venue says could not be recorded"))
                    return
                }
                lateLookups[clientOrderId] = nil
                // Nothing new (its own event had told it already), or found ended with nothing filled: only said so.
                guard recorded != stored else { return }
                guard !(recorded.status.isFinal && recorded.filledQuantity.isZero) else {
                    logger.info("an order given up as not found is ended at its venue, nothing filled", metadata: [
                        "client_order_id": "\(clientOrderId)", "venue_status": "\(report.status.rawValue)",
                    ])
                    return
                }
                logger.critical("an order given up as not found is at its venue after all; its record follows the venue", metadata: [
                    "client_order_id": "\(clientOrderId)", "venue_status": "\(report.status.rawValue)", "now": "\(recorded.status.rawValue)",
                    "filled": "\(recorded.filledQuantity)",
                ])
            }
        }
    }

    /// `endsDoubt`: the venue could not be asked (not routerd's own database failing).
    private func lookUpFailed(_ clientOrderId: String, _ error: any Error, endsDoubt: Bool) {
        guard var entry = lateLookups[clientOrderId] else { return }
        entry.failures += 1
        if endsDoubt { entry.lookedUp(at: clock(), first: reconciliation.lateLookups.first ?? .zero) }
        guard entry.failures < LateLookup.failureLimit else {
            lateLookups[clientOrderId] = nil
            logger.critical("an order given up as not found could not be looked up late; it stays given up", metadata: [
                "client_order_id": "\(clientOrderId)", "failures": "\(entry.failures)", "error": "\(error)",
            ])
            return
        }
        entry.retryAt = clock() + min(.seconds(30) * (1 << min(entry.failures - 1, 5)), .seconds(600))
        lateLookups[clientOrderId] = entry
        logger.warning("a late look-up of an order given up as not found failed; trying later", metadata: [
            "client_order_id": "\(clientOrderId)", "error": "\(error)",
        ])
    }
}
