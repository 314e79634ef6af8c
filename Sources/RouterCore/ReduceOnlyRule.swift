import BagbotDomain

/// What a reduce-only order may do: shrink the position it is against, never grow or flip it. One rule for
/// routerd and for the backtest's venue.
public enum ReduceOnlyRule {
    /// Why a reduce-only `side` order of `quantity` against `position` is refused (nil: it only reduces).
    /// `alsoReducing`: what the reduce-only orders still open against the same position have left to fill.
    public static func refusal(side: Side, quantity: ExactDecimal, position: ExactDecimal, alsoReducing: ExactDecimal = .zero,
                               whose: String, symbol: String) -> String? {
        guard !position.isZero, position.isPositive == (side == .sell) else {
            return "reduce-only \(side.rawValue) refused: it would grow \(whose) \(symbol) position (\(position))"
        }
        guard let reducing = try? quantity + alsoReducing, reducing <= position.magnitude else {
            // What may still go out, so that a stop can be sent again at that size rather than not at all.
            let room = (try? position.magnitude - alsoReducing).flatMap { $0.isPositive ? $0 : nil }
            return "reduce-only \(side.rawValue) of \(quantity) refused: with the reduce-only orders still open (\((try? quantity + alsoReducing).map { "\($0)" } ?? "out of range") in all) it would flip \(whose) \(symbol) position (\(position))"
                + (room.map(ReduceOnlyAllowance.phrase) ?? "")
        }
        return nil
    }
}
