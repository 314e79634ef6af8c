import Foundation

/// A strategy's position in one symbol, built only from real fills.
public struct PositionBook: Sendable, Equatable {
    /// Signed: positive long, negative short.
    public private(set) var quantity = 0.0
    public private(set) var averagePrice = 0.0
    /// Fees paid on the open quantity, charged to the trade when it closes.
    public private(set) var openFees = 0.0
    static let epsilon = 1e-12

    public init(quantity: Double = 0, averagePrice: Double = 0, openFees: Double = 0) {
        self.openFees = openFees
        self.quantity = quantity
        self.averagePrice = averagePrice
    }

    public var isFlat: Bool { abs(quantity) < Self.epsilon }

    /// Applies a fill; returns the closed part (if the fill reduced or flipped the position).
    public mutating func apply(_ fill: Fill) -> (quantity: Double, entryPrice: Double, pnl: Double, closedSide: Side)? {
        guard fill.quantity > 0, fill.price > 0, fill.quantity.isFinite, fill.price.isFinite else { return nil }
        let signed = fill.quantity * fill.side.sign
        if isFlat {
            // Dust below epsilon is no position: start clean (a fill of exactly −dust would divide by zero).
            quantity = 0
            averagePrice = 0
            openFees = 0
        }
        if isFlat || (quantity > 0) == (signed > 0) {
            let total = quantity + signed
            averagePrice = (averagePrice * abs(quantity) + fill.price * fill.quantity) / abs(total)
            quantity = total
            openFees += fill.fee
            return nil
        }
        let closing = min(abs(signed), abs(quantity))
        let closedSide: Side = quantity > 0 ? .buy : .sell
        let direction = quantity > 0 ? 1.0 : -1.0
        let feeShareOpen = openFees * closing / abs(quantity)
        let feeShareFill = fill.fee * closing / fill.quantity
        let pnl = (fill.price - averagePrice) * closing * direction - feeShareOpen - feeShareFill
        let entry = averagePrice
        openFees -= feeShareOpen
        quantity += signed
        if abs(quantity) < Self.epsilon {
            quantity = 0
            averagePrice = 0
            openFees = 0
        } else if (quantity > 0) != (direction > 0) {
            // Flipped: the remainder opens a new position at the fill price.
            averagePrice = fill.price
            openFees = fill.fee - feeShareFill
        }
        return (closing, entry, pnl, closedSide)
    }
}
