import Foundation

/// A position in one symbol, built only from real fills, in exact decimals: routerd, arsenald and mindsetd
/// apply the same fills with this same code and agree to the last digit.
///
/// It keeps the open quantity's cost (Σ price × quantity of the fills that opened it) rather than an average
/// price, so a position opened and closed in full gives the exact P&L of its fills. Only a partial close
/// divides: its share of cost and fees is rounded half-even to `shareScale` decimals, and the remainder stays
/// with the open quantity, so nothing is lost or created over the position's life.
public struct PositionBook: Sendable, Equatable {
    /// Signed: positive long, negative short.
    public private(set) var quantity: ExactDecimal = .zero
    /// What the open quantity cost, in quote currency; never negative.
    public private(set) var cost: ExactDecimal = .zero
    /// Fees paid on the open quantity, charged to the trade when it closes.
    public private(set) var openFees: ExactDecimal = .zero
    /// Decimals of a partial close's share of cost and fees, and of the average price.
    public static let shareScale = 12

    /// What a fill closed: part (or all) of the position, with its realised P&L after the fees of both sides.
    public struct Closed: Sendable, Equatable {
        public var quantity: ExactDecimal
        public var entryPrice: ExactDecimal
        public var pnl: ExactDecimal
        /// Side of the position that was closed (buy = a long was closed).
        public var closedSide: Side
    }

    public init() {}

    public init(quantity: ExactDecimal, cost: ExactDecimal, openFees: ExactDecimal = .zero) {
        self.quantity = quantity
        self.cost = quantity.isZero ? .zero : cost.magnitude
        self.openFees = quantity.isZero ? .zero : openFees
    }

    public var isFlat: Bool { quantity.isZero }

    /// Cost ÷ quantity (zero when flat).
    public var averagePrice: ExactDecimal {
        guard !quantity.isZero else { return .zero }
        return (try? cost.divided(by: quantity.magnitude, scale: Self.shareScale, rounding: .halfEven).normalized) ?? .zero
    }

    /// Applies a fill; returns the closed part if the fill reduced or flipped the position. A fill without a
    /// positive quantity and price changes nothing, except a long sold at 0 (a total loss); a result out of range throws
    /// and changes nothing.
    ///
    /// The position moves by what the fill really moved (`Fill.positionQuantity`: a buy whose commission was
    /// taken in the base asset received less), at the fill's price, with the whole fee charged as usual: the
    /// commission's value is in `fee`, so counting it again in the cost would charge it twice. A commission never
    /// carries a close past flat: a sell of no more than is held, whose commission came from the account's other
    /// holdings of the asset (Binance takes a BNB pair's fees in BNB), closes the position and opens nothing.
    public mutating func apply(_ fill: Fill) throws -> Closed? {
        var moved = try fill.positionQuantity
        if !isFlat, quantity.signum != fill.side.signed(fill.quantity).signum, fill.quantity <= quantity.magnitude {
            moved = min(moved, quantity.magnitude)
        }
        // A long sold for nothing is a total loss, and counts. Any other fill at 0 would make a position that cost
        // nothing (whose close would be a gain from nothing), or buy one back for nothing: it changes nothing.
        let longSoldForNothing = fill.price.isZero && quantity.isPositive && fill.side == .sell && moved <= quantity
        guard moved.isPositive, fill.price.isPositive || longSoldForNothing else { return nil }
        let signed = fill.side.signed(moved)
        let fillCost = try fill.price.times(moved)
        if isFlat || quantity.signum == signed.signum {
            let next = PositionBook(quantity: try quantity + signed, cost: try cost + fillCost, openFees: try openFees + fill.fee)
            self = next
            return nil
        }
        let held = quantity.magnitude
        let closing = min(moved, held)
        let closedSide: Side = quantity.isPositive ? .buy : .sell
        let entry = averagePrice
        // The closed part's share of what the position cost and of the fees of both sides.
        let costShare = closing == held ? cost : try share(of: cost, closing, of: held)
        let openFeeShare = closing == held ? openFees : try share(of: openFees, closing, of: held)
        let fillFeeShare = closing == moved ? fill.fee : try share(of: fill.fee, closing, of: moved)
        let proceeds = try fill.price.times(closing)
        let gross = quantity.isPositive ? try proceeds - costShare : try costShare - proceeds
        let pnl = try gross - openFeeShare - fillFeeShare
        let remaining = try quantity + signed
        let next: PositionBook
        if remaining.isZero {
            next = PositionBook()
        } else if remaining.signum == quantity.signum {
            next = PositionBook(quantity: remaining, cost: try cost - costShare, openFees: try openFees - openFeeShare)
        } else {
            // Flipped: the rest of the fill opens a new position at the fill price, with the rest of its fee.
            next = PositionBook(quantity: remaining, cost: try fill.price.times(remaining.magnitude), openFees: try fill.fee - fillFeeShare)
        }
        self = next
        return Closed(quantity: closing, entryPrice: entry, pnl: pnl, closedSide: closedSide)
    }

    /// amount × part ÷ whole (part ≤ whole), half-even at `shareScale` decimals (or the amount's, if more).
    /// Multiplying first is exact when the product fits; when it does not (a cost near 10^18 times a large
    /// quantity), the fraction part ÷ whole is taken to 18 decimals first, which errs by less than one unit in
    /// 10^18 of the amount: an exit must never be refused because an intermediate figure is large.
    private func share(of amount: ExactDecimal, _ part: ExactDecimal, of whole: ExactDecimal) throws -> ExactDecimal {
        let scale = max(Self.shareScale, amount.scale)
        if let product = try? amount.multiplied(by: part, scale: min(scale + part.scale, ExactDecimal.maximumScale), rounding: .halfEven) {
            return try product.divided(by: whole, scale: scale, rounding: .halfEven)
        }
        let fraction = try part.divided(by: whole, scale: ExactDecimal.maximumScale, rounding: .halfEven)
        return try amount.multiplied(by: fraction, scale: scale, rounding: .halfEven)
    }
}
