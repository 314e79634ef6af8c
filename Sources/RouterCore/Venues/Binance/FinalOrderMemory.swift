/// The client order ids of the last orders a venue reported final, oldest forgotten first.
///
/// Binance's terminal states (FILLED, CANCELED, EXPIRED, REJECTED, EXPIRED_IN_MATCH) never change again, and a final
/// report is read whole (its fills add up to what was executed), so a user-stream event about such an order has
/// nothing to add: without this, a market order filled in its own answer was looked up again for each of its
/// `executionReport`s (NEW, then TRADE), two signed requests each.
struct FinalOrderMemory {
    private var ids: Set<String> = []
    private var order: [String] = []
    private var oldest = 0
    let capacity: Int

    init(capacity: Int = 10_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func contains(_ clientOrderId: String) -> Bool { ids.contains(clientOrderId) }

    mutating func insert(_ clientOrderId: String) {
        guard ids.insert(clientOrderId).inserted else { return }
        if order.count < capacity {
            order.append(clientOrderId)
        } else {
            ids.remove(order[oldest])
            order[oldest] = clientOrderId
            oldest = (oldest + 1) % capacity
        }
    }
}
