import Foundation
import BagbotDomain
import BagbotTestSupport
import GRDB
import Testing

/// Issue 12's hole "stops are never held back", through the real daemons: a position's stop goes out and fills
/// while mindsetd is dead (exits go straight to routerd, reduce-only), and no entry does (the trade path fails
/// closed for entries).
extension TradePathTests {
    /// EUR/USD quotes one second apart (HistData, EST), each mid with a spread of 2 pips: a chop of ±10 pips
    /// around 1.1000, a dip of 25 pips that Mean Reversion buys, then a steady fall of a pip a second, past its
    /// 1 % stop (the z-score of a steady fall stays near −1.7: no exit, no second entry before the stop).
    static func dipThenFall(in directory: TempDir) throws -> String {
        var mids = (0..<120).map { $0 % 2 == 0 ? 1.09900 : 1.10100 }
        mids.append(1.09750)
        mids += (1...150).map { 1.09750 - Double($0) * 0.0001 }
        let rows = mids.enumerated().map { index, mid -> String in
            let (minute, second) = (index / 60, index % 60)
            return String(format: "20200101 17%02d%02d000,%.5f,%.5f,0", minute, second, mid - 0.00001, mid + 0.00001)
        }
        return try directory.write("eurusd-dip-then-fall.csv", rows.joined(separator: "\n") + "\n")
    }

    @Test("a stop goes out and fills while mindsetd is dead; no entry does")
    func stopWithoutMindset() async throws {
        let data = try TempDir()
        defer { data.remove() }
        let file = try Self.dipThenFall(in: data)
        let config = """
            arsenal:
              micro_trend:
                enabled: false
              mean_reversion:
                enabled: true
                symbols: [EURUSD]

            """
        try await TestSystem.with(speed: "10", files: [file], extraConfig: config) { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("the entry on the dip", timeout: .seconds(60)) {
                try system.count("SELECT COUNT(*) FROM fills") >= 1
            }
            await system.killHard("mindsetd")
            try await system.waitUntil("the stop, with mindsetd dead", timeout: .seconds(60)) {
                try system.count("SELECT COUNT(*) FROM fills") >= 2
            }
            let fills = try await system.database().read { db in
                try Row.fetchAll(db, sql: "SELECT f.side, f.quantity, f.price, o.reduce_only FROM fills f JOIN orders o USING (client_order_id) ORDER BY f.sequence")
            }
            try #require(fills.count == 2)
            #expect(fills[0]["side"] as String == "buy" && fills[0]["reduce_only"] as Bool == false)
            #expect(fills[1]["side"] as String == "sell" && fills[1]["reduce_only"] as Bool == true, "the stop is reduce-only")
            #expect(fills[0]["quantity"] as String == fills[1]["quantity"] as String, "the stop closes the whole position")
            let entry = try #require(ExactDecimal(fills[0]["price"] as String))
            let stop = try #require(ExactDecimal(fills[1]["price"] as String))
            #expect(stop.doubleValue <= entry.doubleValue * 0.99, "sold at or past the 1 % stop: \(stop) after \(entry)")
            // The fall goes on after the stop; without mindsetd no new entry may go out.
            try await Task.sleep(for: .seconds(2))
            #expect(try system.count("SELECT COUNT(*) FROM orders WHERE reduce_only = 0") == 1)
        }
    }
}
