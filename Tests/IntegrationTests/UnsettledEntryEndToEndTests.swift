import Foundation
import BagbotDomain
import BagbotTestSupport
import GRDB
import Testing

/// Issue 12's hole "an unsettled order does not unprotect a position", through the real daemons: while a
/// strategy's entry is unsettled but its fills are in, the position's stop goes out, reduce-only, for what the
/// fills opened. The paper venue fills a market order and reports it final in one answer; with
/// `router.paper.status_lag_ticks` its `filled` comes later, as a live venue's status can lag its fills.
/// (A timed-out send does not make this: routerd's events of the order carry its fill and its final status
/// together, and a catch-up after a reconnect frees every order not being placed.)
extension TradePathTests {
    /// EUR/USD quotes a second apart (HistData, EST): the chop and the 25-pip dip of `dipThenFall` that Mean
    /// Reversion buys, two quotes at the dip, then a gap of 1.5 % down that stays.
    static func dipThenGap(in directory: TempDir) throws -> String {
        var mids = (0..<120).map { $0 % 2 == 0 ? 1.09900 : 1.10100 }
        mids += [1.09750, 1.09750, 1.09750]
        mids += [Double](repeating: 1.08100, count: 150)
        let rows = mids.enumerated().map { index, mid -> String in
            String(format: "20200101 17%02d%02d000,%.5f,%.5f,0", index / 60, index % 60, mid - 0.00001, mid + 0.00001)
        }
        return try directory.write("eurusd-dip-then-gap.csv", rows.joined(separator: "\n") + "\n")
    }

    @Test("while an entry is unsettled, its position's stop goes out for what its fills opened")
    func stopWhileEntryUnsettled() async throws {
        let data = try TempDir()
        defer { data.remove() }
        let file = try Self.dipThenGap(in: data)
        // The entry's final status comes 100 ticks (5 s at 20×) after its fill; the gap is 3 ticks after it.
        let config = """
            router:
              paper:
                status_lag_ticks: 100
            arsenal:
              micro_trend:
                enabled: false
              mean_reversion:
                enabled: true
                symbols: [EURUSD]

            """ + Self.resetFarAhead
        try await TestSystem.with(speed: "20", files: [file], extraConfig: config) { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("the entry and the stop to fill", timeout: .seconds(60)) {
                try system.count("SELECT COUNT(*) FROM fills") >= 2
            }
            // The entry's final status lags its fill by 100 ticks: its record is read once it has come.
            try await system.waitUntil("the entry to be recorded filled", timeout: .seconds(60)) {
                try system.count("SELECT COUNT(DISTINCT client_order_id) FROM order_events WHERE status = 'filled'") >= 2
            }
            let orders = try system.database().read { db in
                try Row.fetchAll(db, sql: """
                    SELECT o.client_order_id, o.side, o.reduce_only, f.quantity, f.price,
                           (SELECT MIN(id) FROM order_events e WHERE e.client_order_id = o.client_order_id) AS first_event,
                           (SELECT MIN(id) FROM order_events e WHERE e.client_order_id = o.client_order_id AND e.status = 'filled') AS filled_event
                    FROM orders o JOIN fills f USING (client_order_id) ORDER BY f.sequence
                    """)
            }
            try #require(orders.count == 2, "\(orders)")
            let (entry, stop) = (orders[0], orders[1])
            #expect(entry["side"] as String == "buy" && entry["reduce_only"] as Bool == false)
            #expect(stop["side"] as String == "sell" && stop["reduce_only"] as Bool == true, "the stop is reduce-only")
            #expect(entry["quantity"] as String == stop["quantity"] as String, "the stop closes what the entry's fill opened")
            let bought = try #require(ExactDecimal(entry["price"] as String)), sold = try #require(ExactDecimal(stop["price"] as String))
            #expect(sold.doubleValue <= bought.doubleValue * 0.99, "sold past the 1 % stop: \(sold) after \(bought)")
            // routerd's record, in the order it was written: the stop existed before the entry was settled.
            let stopSent: Int64 = try #require(stop["first_event"])
            let entrySettled: Int64 = try #require(entry["filled_event"])
            #expect(stopSent < entrySettled, "the stop waited for the entry to settle (order_events \(stopSent) after \(entrySettled))")
        }
    }
}
