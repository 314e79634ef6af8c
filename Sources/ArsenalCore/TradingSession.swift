import BagbotDomain

/// A recorded session fed through the trade path in one process (`bagbot backtest`): ticks in time order, each
/// seen by the venue before the strategies (as routerd records a tick before publishing it), and after each
/// tick the venue's events about the orders that tick caused.
public protocol TradingSession: AnyObject {
    /// The next tick, already seen by the venue; nil at the end of the session.
    func nextTick() -> Tick?
    /// What the venue did with orders since the last call, in the order it did it.
    func updates() -> [RouterUpdate]
}

extension TradeCoordinator {
    /// Runs `session` to its end inside the actor: one tick at a time, each settled (the fills and ends of the
    /// orders it caused applied) before the next, so the same session gives the same orders every run. The
    /// loop runs on the actor's own executor: no hop per tick.
    public func run(_ session: sending some TradingSession) async {
        while let tick = session.nextTick() {
            let outgoing = decide(tick)
            guard !outgoing.isEmpty else { continue }
            await send(outgoing, quote: tick.sequence)
            for update in session.updates() { await handle(update) }
        }
    }
}
