import Foundation
import BagbotDomain
import Testing
@testable import ArsenalCore

@Suite("RollingWindow")
struct RollingWindowTests {
    static func naive(_ values: ArraySlice<Double>) -> (mean: Double, variance: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance)
    }

    @Test("mean and variance match a naive computation, filling and long past capacity", arguments: [
        // (capacity, low, high, seed)
        (1, -1.0, 1.0, UInt64(1)),
        (7, -1.0, 1.0, UInt64(2)),
        (50, -0.002, 0.002, UInt64(3)),   // per-tick returns, what the strategy feeds it
        (100, -0.002, 0.003, UInt64(4)),  // returns with a drift
        (64, 0.0, 10.0, UInt64(5)),
    ])
    func matchesNaive(capacity: Int, low: Double, high: Double, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var window = RollingWindow(capacity: capacity)
        var all: [Double] = []
        let scale = max(abs(low), abs(high))
        // Far past 100 × capacity pushes, so the periodic exact re-summation is exercised several times.
        let pushes = 350 * capacity + 17
        var worstMean = 0.0, worstVariance = 0.0
        for index in 0..<pushes {
            let value = random.uniform(low, high)
            window.push(value)
            all.append(value)
            let recent = all.suffix(capacity)
            #expect(window.count == recent.count)
            #expect(window.isFull == (index + 1 >= capacity))
            let expected = Self.naive(recent)
            worstMean = max(worstMean, abs(window.mean - expected.mean))
            worstVariance = max(worstVariance, abs(window.variance - expected.variance))
            #expect(window.variance >= 0)
        }
        #expect(window.capacity == capacity)
        #expect(worstMean <= 1e-12 * scale, "mean drifted by \(worstMean)")
        #expect(worstVariance <= 1e-11 * scale * scale, "variance drifted by \(worstVariance)")
        let final = Self.naive(all.suffix(capacity))
        #expect(abs(window.sum - final.mean * Double(capacity)) <= 1e-10 * scale * Double(capacity))
        #expect(abs(window.standardDeviation - final.variance.squareRoot()) <= 1e-6 * scale)
    }

    @Test("an empty or single-value window has zero variance")
    func smallWindows() {
        var window = RollingWindow(capacity: 5)
        #expect(window.count == 0)
        #expect(window.mean == 0)
        #expect(window.variance == 0)
        #expect(!window.isFull)
        window.push(3)
        #expect(window.mean == 3)
        #expect(window.variance == 0)
        window.push(5)
        #expect(window.mean == 4)
        #expect(window.variance == 1)
        #expect(window.sum == 8)
    }

    @Test("old values leave the window: after a burst, a constant stretch has zero variance")
    func burstLeavesWindow() {
        var window = RollingWindow(capacity: 10)
        for value in [5.0, -7, 9, -11, 13, -3, 2, 8, -6, 4] { window.push(value) }
        #expect(window.variance > 1)
        for _ in 0..<10 { window.push(0.5) }
        #expect(window.mean == 0.5)
        #expect(window.variance < 1e-12)
        #expect(window.sum == 5)
    }
}

@Suite("OrderRateGuard")
struct OrderRateGuardTests {
    func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

    @Test("the cooldown refuses orders closer than the cooldown to the previous one")
    func cooldown() {
        var guardrail = OrderRateGuard(cooldown: 0.1, maxPerMinute: 20)
        #expect(guardrail.refusal(at: at(0)) == nil)
        guardrail.record(at(0))
        let refusal = guardrail.refusal(at: at(0.05))
        #expect(refusal?.contains("cooldown") == true)
        #expect(refusal?.contains("100 ms") == true)
        #expect(guardrail.refusal(at: at(0.099)) != nil)
        #expect(guardrail.refusal(at: at(0.15)) == nil)
    }

    @Test("at most N orders in any rolling 60 s")
    func perMinuteCap() {
        var guardrail = OrderRateGuard(cooldown: 0.1, maxPerMinute: 20)
        for second in 0..<20 {
            #expect(guardrail.refusal(at: at(Double(second))) == nil)
            guardrail.record(at(Double(second)))
        }
        let refusal = guardrail.refusal(at: at(20))
        #expect(refusal?.contains("20 orders in any 60 s") == true)
        #expect(guardrail.refusal(at: at(59.9)) != nil)
        // 60 s after the oldest of the last 20, one more fits.
        #expect(guardrail.refusal(at: at(60)) == nil)
        guardrail.record(at(60))
        // The window slid by one order: the next fits only 60 s after the order at t = 1.
        #expect(guardrail.refusal(at: at(60.5)) != nil)
        #expect(guardrail.refusal(at: at(61)) == nil)
    }

    @Test("the guard keeps working over thousands of orders (compaction keeps the right window)")
    func longRun() {
        var guardrail = OrderRateGuard(cooldown: 0, maxPerMinute: 3)
        var time = 0.0
        var accepted: [Double] = []
        // Offer an order every 7 s for a long time: exactly 3 in any 60 s may pass.
        for _ in 0..<5_000 {
            if guardrail.refusal(at: at(time)) == nil {
                guardrail.record(at(time))
                accepted.append(time)
            }
            time += 7
        }
        #expect(accepted.count > 500)
        for index in 3..<accepted.count {
            #expect(accepted[index] - accepted[index - 3] >= 60)
        }
        // …and it never refused more than it had to: each accepted order is the first offer allowed.
        for index in 3..<accepted.count {
            #expect(accepted[index] - accepted[index - 3] < 67)
        }
    }
}

@Suite("PositionBook")
struct PositionBookTests {
    @Test("open, add, partial close with fees, flip, close to flat — exact to the last digit")
    func lifecycle() throws {
        var book = PositionBook()
        #expect(book.isFlat)

        #expect(try book.apply(fill(.buy, 1, at: 100, fee: 0.1)) == nil)
        #expect(book.quantity == 1)
        #expect(book.averagePrice == 100)

        #expect(try book.apply(fill(.buy, 1, at: 110, fee: 0.1)) == nil)
        #expect(book.quantity == 2)
        #expect(book.averagePrice == 105)
        #expect(book.cost == 210)

        // Sell half at 120: (120 − 105) × 1 − half the open fees (0.1) − this fill's fee (0.12).
        let partial = try #require(try book.apply(fill(.sell, 1, at: 120, fee: 0.12)))
        #expect(partial.quantity == 1)
        #expect(partial.entryPrice == 105)
        #expect(partial.pnl == 14.78)
        #expect(partial.closedSide == .buy)
        #expect(book.quantity == 1)
        #expect(book.averagePrice == 105)

        // Sell 3 at 90: closes the last 1 (−15 − 0.1 open fee − a third of 0.3) and opens a 2 short at 90.
        let flip = try #require(try book.apply(fill(.sell, 3, at: 90, fee: 0.3)))
        #expect(flip.quantity == 1)
        #expect(flip.pnl == -15.2)
        #expect(flip.closedSide == .buy)
        #expect(book.quantity == -2)
        #expect(book.averagePrice == 90)

        // Buy 2 at 80 closes the short: (90 − 80) × 2 − the remaining open fee 0.2 − 0.16.
        let close = try #require(try book.apply(fill(.buy, 2, at: 80, fee: 0.16)))
        #expect(close.quantity == 2)
        #expect(close.entryPrice == 90)
        #expect(close.pnl == 19.64)
        #expect(close.closedSide == .sell)
        #expect(book.isFlat)
        #expect(book.quantity == 0)
        #expect(book.averagePrice == 0)

        // Flat again means no fee is left over from the earlier position.
        #expect(try book.apply(fill(.buy, 1, at: 50)) == nil)
        let clean = try #require(try book.apply(fill(.sell, 1, at: 51)))
        #expect(clean.pnl == 1)
    }

    @Test("decimals a Double gets wrong: 0.1 + 0.2, satoshi steps, 8-decimal prices")
    func exactWhereDoublesAreNot() throws {
        var book = PositionBook()
        _ = try book.apply(fill(.buy, 0.1, at: 1))
        _ = try book.apply(fill(.buy, 0.2, at: 1))
        #expect(book.quantity == 0.3)
        #expect(book.quantity.description == "0.3")
        for _ in 0..<1_000 { _ = try book.apply(fill(.sell, 0.00000001, at: 1)) }
        #expect(book.quantity == 0.29999)
        let closed = try #require(try book.apply(fill(.sell, 0.29999, at: 1.00000001)))
        #expect(closed.pnl == 0.0000000029999)
        #expect(book.isFlat)
    }

    @Test("the sum of realised P&L equals cash flow minus fees over a full round trip, exactly")
    func pnlConservation() throws {
        var random = SplitMix64(seed: 42)
        var book = PositionBook()
        var cash: ExactDecimal = 0
        var realised: ExactDecimal = 0
        for index in 0..<500 {
            let side: Side = random.uniform(0, 1) < 0.5 ? .buy : .sell
            let quantity = ExactDecimal(rounding: random.uniform(0.1, 3), scale: 3, rounding: .halfEven)!
            let price = ExactDecimal(rounding: random.uniform(90, 110), scale: 2, rounding: .halfEven)!
            let notional = try quantity.times(price)
            let fee = try notional.multiplied(by: 0.001, scale: 8, rounding: .up)
            cash = side == .buy ? try cash - notional - fee : try cash + notional - fee
            if let closed = try book.apply(fill(side, quantity, at: price, fee: fee, seconds: Double(index))) {
                realised = try realised + closed.pnl
            }
        }
        // Close whatever is left at 100.
        if !book.isFlat {
            let side: Side = book.quantity.isPositive ? .sell : .buy
            let quantity = book.quantity.magnitude
            let notional = try quantity.times(100)
            cash = side == .buy ? try cash - notional : try cash + notional
            let last = try book.apply(fill(side, quantity, at: 100))
            realised = try realised + #require(last).pnl
        }
        #expect(book.isFlat)
        // Partial closes round their shares to 12 decimals; what is left over stays with the position and
        // closes with it, so the total is exact up to those roundings.
        #expect(try (realised - cash).magnitude <= 0.000000001)
    }

    @Test("invalid fills are ignored (a long sold at 0 is not invalid: PositionBookZeroPriceTests)", arguments: ["0", "-1", "0.000"])
    func invalidFillsIgnored(bad: String) throws {
        var book = PositionBook()
        _ = try book.apply(fill(.buy, 2, at: 100))
        let before = book
        let value = try #require(ExactDecimal(bad))
        #expect(try book.apply(fill(.sell, value, at: 100)) == nil)
        #expect(try book.apply(fill(.buy, 1, at: value)) == nil)
        #expect(book == before)
        #expect(book.quantity == 2)
        #expect(book.averagePrice == 100)
    }
}
