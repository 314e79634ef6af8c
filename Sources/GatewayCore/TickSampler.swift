/// At most `perSecond` ticks per symbol per second reach the event stream: a tick passes when at least 1/`perSecond`
/// second has gone by since the last one of its symbol that passed (0: none pass). The others are simply not sent:
/// the stream shows the market, it is not a feed to trade on.
struct TickSampler: Sendable {
    let perSecond: Int
    private var lastPassed: [String: ContinuousClock.Instant] = [:]

    init(perSecond: Int) {
        self.perSecond = perSecond
    }

    mutating func admits(_ symbol: String, at now: ContinuousClock.Instant) -> Bool {
        guard perSecond > 0 else { return false }
        if let last = lastPassed[symbol], now - last < .seconds(1) / perSecond { return false }
        lastPassed[symbol] = now
        return true
    }
}
