import Metrics
import BagbotDomain

/// routerd in Prometheus (docs/observability.md): orders by venue and the status they moved to, fills, the venue's
/// answer time to a new order, and the orders still being settled. Handles are made once per series and kept, so the
/// order path pays a dictionary look-up and an atomic add, not a registry's lock.
struct RouterMetrics {
    private var transitions: [TransitionKey: Metrics.Counter] = [:]
    private var fills: [Venue: Metrics.Counter] = [:]
    private var roundTrips: [Venue: Metrics.Timer] = [:]
    private var held: [Venue: Gauge] = [:]
    /// Orders whose outcome is being looked up at their venue (`unknown`, or sent and not found yet).
    let unsettled: Gauge
    /// The process's backend (`MetricsSystem.factory`), or a test's.
    private let factory: any MetricsFactory

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        unsettled = Gauge(label: "bagbot_orders_unsettled", factory: factory)
    }

    private struct TransitionKey: Hashable {
        var venue: Venue
        var status: OrderStatus
    }

    /// An order was recorded in `status` (counted once per status it takes: `pending_new` as it is stored).
    mutating func ordered(_ venue: Venue, _ status: OrderStatus) {
        let key = TransitionKey(venue: venue, status: status)
        if transitions[key] == nil {
            transitions[key] = Metrics.Counter(label: "bagbot_orders_total", dimensions: [("venue", venue.rawValue), ("status", status.rawValue)],
                                                      factory: factory)
        }
        transitions[key]?.increment()
    }

    mutating func filled(_ venue: Venue, count: Int) {
        guard count > 0 else { return }
        if fills[venue] == nil { fills[venue] = Metrics.Counter(label: "bagbot_fills_total", dimensions: [("venue", venue.rawValue)], factory: factory) }
        fills[venue]?.increment(by: count)
    }

    /// 1 while new orders to `venue` are held because its order stream is down or its orders are not yet reconciled
    /// (`RouterService.reconcilePending`), else 0: the `BagbotVenueOrdersHeld` alert's series.
    mutating func ordersHeld(_ venue: Venue, _ isHeld: Bool) {
        if held[venue] == nil { held[venue] = Gauge(label: "bagbot_venue_orders_held", dimensions: [("venue", venue.rawValue)], factory: factory) }
        held[venue]?.record(isHeld ? 1 : 0)
    }

    /// From handing a new order to its venue to the venue's answer (accepted, filled or refused; a timeout counts too).
    mutating func answered(_ venue: Venue, after duration: Duration) {
        if roundTrips[venue] == nil {
            roundTrips[venue] = Metrics.Timer(label: "bagbot_order_round_trip_seconds", dimensions: [("venue", venue.rawValue)], factory: factory)
        }
        roundTrips[venue]?.record(duration: duration)
    }
}
