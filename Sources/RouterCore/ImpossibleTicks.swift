import BagbotDomain
import Logging

/// The symbols whose latest tick was impossible (`RequestRules.isQuotable`), so that a stream of them is logged as it
/// starts and as it ends rather than once per tick: a book emptied on one side sends a bid of 0 with every update.
struct ImpossibleTicks {
    private var symbols: Set<String> = []

    /// Whether `tick` may be taken; a symbol's change either way is logged on `logger`.
    mutating func admit(_ tick: Tick, logger: Logger) -> Bool {
        guard RequestRules.isQuotable(tick) else {
            if symbols.insert(tick.symbol).inserted {
                logger.warning("ticks with an impossible price ignored until the market is one a venue could quote", metadata: [
                    "symbol": "\(tick.symbol)", "bid": "\(tick.bid)", "ask": "\(tick.ask)", "last": "\(tick.last)",
                ])
            }
            return false
        }
        if symbols.remove(tick.symbol) != nil {
            logger.notice("ticks quotable again", metadata: ["symbol": "\(tick.symbol)", "bid": "\(tick.bid)", "ask": "\(tick.ask)"])
        }
        return true
    }
}
