import Foundation
import BagbotDomain
import Testing

@Suite("PerformanceLedger")
struct PerformanceLedgerTests {
    private static let start = Date(timeIntervalSince1970: 1_700_000_000)
    private var sequence: Int64 = 0

    private mutating func fill(_ side: Side, _ quantity: ExactDecimal, at price: ExactDecimal, fee: ExactDecimal = 0,
                               symbol: String = "BTCUSDT", strategy: String? = "trend") -> Fill {
        sequence += 1
        return Fill(fillId: "f\(sequence)", clientOrderId: "c\(sequence)", venue: .paper, symbol: symbol, side: side, quantity: quantity,
                    price: price, fee: fee, time: Self.start.addingTimeInterval(Double(sequence)), strategyId: strategy,
                    requestId: nil, sequence: sequence)
    }

    @Test("a long sold for nothing is a losing trade here as in the positions; an entry at 0 moves nothing")
    mutating func zeroPrice() throws {
        var ledger = PerformanceLedger()
        for fill in [fill(.buy, 1, at: 0), fill(.buy, 2, at: 100, fee: 0.1), fill(.sell, 2, at: 0)] { try ledger.apply(fill) }
        let btc = try #require(ledger.performance.first?.symbols.first)
        #expect(btc.trades == 1 && btc.losses == 1 && btc.netPnl == ExactDecimal("-200.1")!)
        #expect(btc.position == 0 && btc.volume == 200, "the buy at 0 is no volume and no position")
    }

    @Test("wins, losses, fees, profit factor and the deepest fall of the running P&L, to the last digit")
    mutating func knownAnswers() throws {
        var ledger = PerformanceLedger()
        // +10 − 0.3 fees, then −4 − 0.2 fees, then −3 (a short), then a partial close of +2.5 leaving 1 open at 100
        // (realised, but its round trip is not over).
        for fill in [
            fill(.buy, 1, at: 100, fee: 0.1), fill(.sell, 1, at: 110, fee: 0.2),
            fill(.buy, 2, at: 100, fee: 0.1), fill(.sell, 2, at: 98, fee: 0.1),
            fill(.sell, 1, at: 50), fill(.buy, 1, at: 53),
            fill(.buy, 2, at: 100), fill(.sell, 1, at: 102.5),
        ] { try ledger.apply(fill) }
        let report = try #require(ledger.performance.first)
        #expect(report.strategyId == "trend" && report.trades == 3 && report.wins == 1)
        let btc = try #require(report.symbols.first)
        #expect(btc.trades == 3 && btc.wins == 1 && btc.losses == 2 && btc.winRate == 1.0 / 3)
        // Realised: the three round trips and the half closed of the fourth.
        #expect(btc.netPnl == 5)
        #expect(btc.fees == ExactDecimal("0.5"))
        #expect(btc.grossProfit == ExactDecimal("9.7") && btc.grossLoss == ExactDecimal("7.2"))
        #expect(abs((btc.profitFactor ?? 0) - 9.7 / 7.2) < 1e-12)
        // Running realised P&L: 9.7, 5.5, 2.5, 5 — from the high of 9.7 down to 2.5.
        #expect(btc.maxDrawdown == ExactDecimal("7.2"))
        #expect(btc.position == 1 && btc.exposure == 100)
        #expect(btc.volume == ExactDecimal("1011.5"))
    }

    @Test("an exit in pieces is one round trip; a flip ends one and starts the next; a fill without amounts counts nothing")
    mutating func roundTrips() throws {
        var ledger = PerformanceLedger()
        for fill in [
            fill(.buy, 2, at: 100), fill(.sell, 1, at: 101), fill(.sell, 1, at: 99.5),
            fill(.buy, 1, at: 100), fill(.sell, 3, at: 102), fill(.buy, 2, at: 101),
            fill(.buy, 0, at: 101, fee: 5),
        ] { try ledger.apply(fill) }
        let btc = try #require(ledger.performance.first?.symbols.first)
        // +1 −0.5 = +0.5 (one trip), then long 1 at 100 sold at 102 (+2, the flip ends it), short 2 at 102 bought at 101 (+2).
        #expect(btc.trades == 3 && btc.wins == 3 && btc.losses == 0)
        #expect(btc.netPnl == ExactDecimal("4.5") && btc.fees == 0)
        #expect(btc.position == 0)
    }

    @Test("dust below the symbol's minimum quantity is flat: round trips that leave it are counted one by one")
    mutating func dustIsFlat() throws {
        var ledger = PerformanceLedger(minimumQuantities: ["BTCUSDT": ExactDecimal("0.0001")!])
        // Bought 0.01 of which 0.00001 went as commission: 0.00999 held, 0.0099 sold (onto the step), 0.00009 left.
        for fill in [
            fill(.buy, ExactDecimal("0.00999")!, at: 100), fill(.sell, ExactDecimal("0.0099")!, at: 110),
            fill(.buy, ExactDecimal("0.01")!, at: 100), fill(.sell, ExactDecimal("0.01")!, at: 90),
            // A short from dust: the dust's close is part of the new trip, not a trip of its own.
            fill(.sell, ExactDecimal("0.01")!, at: 90), fill(.buy, ExactDecimal("0.01")!, at: 80),
        ] { try ledger.apply(fill) }
        let btc = try #require(ledger.performance.first?.symbols.first)
        #expect(btc.trades == 3, "three round trips, though the position never read exactly 0: \(btc)")
        #expect(btc.wins == 2 && btc.losses == 1)
        // The same fills without the minimum: the dust keeps the first two trips open as one.
        var plain = PerformanceLedger()
        sequence = 0
        for fill in [
            fill(.buy, ExactDecimal("0.00999")!, at: 100), fill(.sell, ExactDecimal("0.0099")!, at: 110),
            fill(.buy, ExactDecimal("0.01")!, at: 100), fill(.sell, ExactDecimal("0.01")!, at: 90),
        ] { try plain.apply(fill) }
        #expect(plain.performance.first?.symbols.first?.trades == 0)
    }

    @Test("symbols apart (their currencies differ), strategies apart, the trader's own fills not counted")
    mutating func separated() throws {
        var ledger = PerformanceLedger()
        for fill in [
            fill(.buy, 10_000, at: 1.1, symbol: "EURUSD", strategy: "fader"), fill(.sell, 10_000, at: 1.1002, symbol: "EURUSD", strategy: "fader"),
            fill(.buy, 1, at: 100), fill(.buy, 1, at: 100, strategy: nil), fill(.sell, 1, at: 90, strategy: nil),
        ] { try ledger.apply(fill) }
        let byId = Dictionary(uniqueKeysWithValues: ledger.performance.map { ($0.strategyId, $0) })
        #expect(byId.keys.sorted() == ["fader", "trend"])
        #expect(byId["fader"]?.symbols.map(\.symbol) == ["EURUSD"])
        #expect(byId["fader"]?.symbols.first?.netPnl == 2)
        #expect(byId["fader"]?.symbols.first?.profitFactor == nil, "no loss: no profit factor")
        #expect(byId["trend"]?.trades == 0 && byId["trend"]?.winRate == nil)
        #expect(byId["trend"]?.symbols.first?.position == 1)
    }
}
