import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import RouterCore

/// The reader remembers the last HistData date and the bid and ask of recent trade prices; what it remembers
/// must give exactly what computing afresh gives.
@Suite("ReplayReader caches")
struct ReplayReaderCacheTests {
    private func ticks(_ path: String, mapped: Bool, tickSizes: [String: ExactDecimal] = [:]) throws -> [Tick] {
        var reader = try ReplayReader(path: path, tradeSpreadBps: 2, tickSizes: tickSizes, mapped: mapped)
        var ticks: [Tick] = []
        while let tick = reader.next() { ticks.append(tick) }
        return ticks
    }

    @Test("a price seen again (also written with another scale) gets the bid and ask it gets the first time, mapped or read")
    func repeatedPrices() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let prices = ["9682", "9681.5", "9682", "9682.0", "9681.5", "9682.00", "9682"]
        let rows = prices.enumerated().map { "binance-futures,btcusdt,15823296021\($0.offset)0000,0,\($0.offset),buy,\($0.element),0.1" }
        let path = try dir.write("trades.csv", "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n" + rows.joined(separator: "\n"))
        for mapped in [true, false] {
            for tickSizes in [[:], ["BTCUSDT": ExactDecimal(mantissa: 1, scale: 1)]] {
                let read = try ticks(path, mapped: mapped, tickSizes: tickSizes)
                try #require(read.count == prices.count)
                for (index, price) in prices.enumerated() {
                    // Each price alone in a file of its own: nothing remembered.
                    let single = try dir.write("one-\(index).csv",
                        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nbinance-futures,btcusdt,1582329602000000,0,1,buy,\(price),0.1\n")
                    let alone = try #require(try ticks(single, mapped: mapped, tickSizes: tickSizes).first)
                    #expect(read[index].bid == alone.bid && read[index].bid.scale == alone.bid.scale, "\(price)")
                    #expect(read[index].ask == alone.ask && read[index].ask.scale == alone.ask.scale, "\(price)")
                    #expect(read[index].last.scale == alone.last.scale)
                }
            }
        }
    }

    @Test("HistData rows across a change of date, and a bad date after a good one, are read as alone")
    func histDataDays() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("eurusd-quotes.csv", """
            20200131 235959999,1.10000,1.10002,0
            20200201 000000000,1.10001,1.10003,0
            20201301 000000001,1.10001,1.10003,0
            20200201 000000002,1.10001,1.10003,0
            20200229 120000000,1.10001,1.10003,0

            """)
        var reader = try ReplayReader(path: path, tradeSpreadBps: 1)
        var times: [Double] = []
        while let tick = reader.next() { times.append(tick.time.timeIntervalSince1970) }
        #expect(reader.skippedLines == 1, "month 13 is refused even right after a valid date")
        let expected = ["20200131 235959999", "20200201 000000000", "20200201 000000002", "20200229 120000000"]
            .map { ReplayParser.histDataTime(Substring($0))!.timeIntervalSince1970 }
        #expect(times == expected)
        #expect(abs(expected[1] - expected[0] - 0.001) < 1e-6, "one millisecond across midnight")
    }

    @Test("a directory is refused with a reason, never read")
    func directory() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        for mapped in [true, false] {
            let error = #expect(throws: ReplayParseError.self) { _ = try ReplayReader(path: dir.path, tradeSpreadBps: 1, mapped: mapped) }
            #expect(error?.reason.hasPrefix("cannot read") == true)
        }
    }
}
