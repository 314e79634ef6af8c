import Foundation
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("ReplayParser")
struct ReplayParserTests {
    @Test("recognises the three formats by their first line", arguments: [
        ("exchange,symbol,timestamp,local_timestamp,id,side,price,amount", ReplayFormat?.some(.tardisTrades)),
        ("20200101 170000065,1.121200,1.121720,0", .some(.histDataQuotes)),
        ("id,price,qty,quote_qty,time,is_buyer_maker", .some(.binanceTrades)),
        ("id,price,qty,quote_qty,time,is_buyer_maker,is_best_match", .some(.binanceTrades)),
        ("42377944,9682.0,0.132,1278.0,1582329602111,true,true", .some(.binanceTrades)),
        ("42377944,9682.0,0.132,1278.0,1582329602111000,False", .some(.binanceTrades)),
        ("time,bid,ask", nil),
        ("2020-01-01 17:00:00,1.1,1.2,0", nil),
        ("hello world", nil),
        ("", nil),
    ])
    func detection(line: String, expected: ReplayFormat?) {
        #expect(ReplayFormat.detect(firstLine: line) == expected)
    }

    @Test("HistData: EST (UTC−5, no daylight saving) is converted to UTC, milliseconds kept")
    func histData() throws {
        let dir = try TempDir()
        let path = try dir.write("eurusd-quotes-20200101.csv", """
            20191231 230000000,1.121000,1.121100,0
            20200101 170000065,1.121200,1.121720,0
            20200101 170010447,1.121200,1.121920,3
            20200630 235959999,1.123400,1.123500,0

            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.format == .histDataQuotes)
        #expect(file.symbol == "EURUSD")
        #expect(file.skippedLines == 0)
        #expect(file.ticks.count == 4)
        let times = file.ticks.map { $0.time.timeIntervalSince1970 }
        // 2020-01-01T04:00:00Z, 2020-01-01T22:00:00.065Z, …T22:00:10.447Z, 2020-07-01T04:59:59.999Z
        let expected = [1_577_851_200.0, 1_577_916_000.065, 1_577_916_010.447, 1_593_579_599.999]
        for (time, want) in zip(times, expected) {
            #expect(abs(time - want) < 1e-6, "\(time) should be \(want)")
        }
        let tick = file.ticks[1]
        #expect(tick.symbol == "EURUSD")
        #expect(tick.bid == 1.1212)
        #expect(tick.ask == 1.12172)
        #expect(tick.last == 1.12146)
        #expect(tick.last.description == "1.121460")
        #expect(file.ticks[2].volume == 3)
        #expect(tick.source == "replay:eurusd-quotes-20200101.csv")
        #expect(file.ticks.map(\.sequence) == [1, 2, 3, 4])
        #expect(file.start == file.ticks[0].time)
    }

    @Test("HistData: the documented example 20200101 170000065 is 2020-01-01T22:00:00.065Z")
    func histDataExample() throws {
        let date = try #require(ReplayParser.histDataTime("20200101 170000065"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(formatter.string(from: date) == "2020-01-01T22:00:00.065Z")
        #expect(ReplayParser.histDataTime("20200101 1700000651") == nil)
        #expect(ReplayParser.histDataTime("20201301 170000065") == nil)
        #expect(ReplayParser.histDataTime("20200101 250000065") == nil)
        #expect(ReplayParser.histDataTime("2020010a 170000065") == nil)
    }

    @Test("HistData with CRLF line endings (as downloaded) parses the same")
    func histDataCRLF() throws {
        let dir = try TempDir()
        let path = try dir.write("DAT_ASCII_EURUSD_T_202001.csv",
                                 "20200101 170000065,1.121200,1.121720,0\r\n20200101 170010447,1.121200,1.121920,0\r\n")
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.symbol == "EURUSD")
        #expect(file.ticks.count == 2)
        #expect(file.skippedLines == 0)
        #expect(file.ticks.last?.volume == 0)
    }

    @Test("tardis.dev: microsecond timestamps, symbol from the symbol column, spread around the trade price")
    func tardis() throws {
        let dir = try TempDir()
        let path = try dir.write("trades.csv", """
            exchange,symbol,timestamp,local_timestamp,id,side,price,amount
            binance-futures,btcusdt,1582329602111000,1582329602418379,42377944,buy,9682,0.132
            binance-futures,btcusdt,1582329602116123,1582329602418420,42377945,sell,9681.5,0.412
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 2)
        #expect(file.format == .tardisTrades)
        #expect(file.symbol == "BTCUSDT")
        #expect(file.ticks.count == 2)
        let first = file.ticks[0]
        #expect(first.symbol == "BTCUSDT")
        #expect(abs(first.time.timeIntervalSince1970 - 1_582_329_602.111) < 1e-6)
        #expect(abs(file.ticks[1].time.timeIntervalSince1970 - 1_582_329_602.116123) < 1e-6)
        #expect(first.last == 9682)
        #expect(first.volume == 0.132)
        // 2 bp wide: ±0.9682 around the trade, exact (no tick size given: four decimals finer than the print).
        #expect(first.bid == 9681.0318)
        #expect(first.ask == 9682.9682)
        #expect(first.mid == 9682)
    }

    @Test("tardis.dev: columns are found by name, not position")
    func tardisColumnOrder() throws {
        let dir = try TempDir()
        let path = try dir.write("x.csv", """
            exchange,id,price,amount,side,symbol,local_timestamp,timestamp
            binance,1,100.5,2,buy,ETHUSDT,0,1600000000000000
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 0)
        #expect(file.symbol == "ETHUSDT")
        #expect(file.ticks.first?.last == 100.5)
        #expect(file.ticks.first?.volume == 2)
        #expect(file.ticks.first?.time == Date(timeIntervalSince1970: 1_600_000_000))
    }

    @Test("Binance dumps: with and without a header, ms and µs timestamps, symbol from the file name")
    func binance() throws {
        let dir = try TempDir()
        let withHeader = try dir.write("BTCUSDT-trades-2020-02-22.csv", """
            id,price,qty,quote_qty,time,is_buyer_maker
            42377944,9682.00,0.132,1278.024,1582329602111,true
            42377945,9682.50,0.412,3989.19,1582329602116,false
            """)
        let headerless = try dir.write("ETHBTC-trades-2025-01-01.csv", """
            1001,0.03125,1.5,0.046875,1735689600123456,true,true
            1002,0.03126,0.5,0.01563,1735689600223456,false,true
            """)
        let a = try ReplayParser.parse(path: withHeader, tradeSpreadBps: 0)
        #expect(a.format == .binanceTrades)
        #expect(a.symbol == "BTCUSDT")
        #expect(a.ticks.count == 2)
        #expect(a.skippedLines == 0)
        #expect(abs(a.ticks[0].time.timeIntervalSince1970 - 1_582_329_602.111) < 1e-6)
        #expect(a.ticks[0].last == 9682)
        #expect(a.ticks[0].volume == 0.132)
        #expect(a.ticks[1].last == 9682.5)

        let b = try ReplayParser.parse(path: headerless, tradeSpreadBps: 0)
        #expect(b.format == .binanceTrades)
        #expect(b.symbol == "ETHBTC")
        #expect(b.ticks.count == 2)
        #expect(abs(b.ticks[0].time.timeIntervalSince1970 - 1_735_689_600.123456) < 1e-6)
        #expect(abs(b.ticks[1].time.timeIntervalSince1970 - 1_735_689_600.223456) < 1e-6)
        #expect(b.ticks[0].last == 0.03125)
    }

    @Test("symbols are read from common file names")
    func symbolsFromFileNames() {
        #expect(ReplayParser.symbolFromFileName("/data/eurusd-quotes-20200101.csv") == "EURUSD")
        #expect(ReplayParser.symbolFromFileName("BTCUSDT-trades-2024-01-01.csv") == "BTCUSDT")
        #expect(ReplayParser.symbolFromFileName("DAT_ASCII_EURUSD_T_202001.csv") == "EURUSD")
        #expect(ReplayParser.symbolFromFileName("BTCUSDT-aggTrades-2024-01-01.csv") == "BTCUSDT")
        #expect(ReplayParser.symbolFromFileName("trades-2024.csv") == nil)
        #expect(ReplayParser.symbolFromFileName("20200101.csv") == nil)
    }

    @Test("malformed lines are skipped and counted, the rest is kept")
    func malformedLinesSkipped() throws {
        let dir = try TempDir()
        let path = try dir.write("eurusd-test.csv", """
            20200101 170000065,1.121200,1.121720,0
            garbage
            20200101 17000006x,1.1,1.2,0
            20200101 170001000,1.2,1.1,0
            20200101 170001000,,1.1,0
            20200101 170001000,-1,1.1,0

            20200101 170002000,1.121300,1.121800,0
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.ticks.count == 2)
        #expect(file.skippedLines == 5)
        #expect(file.ticks.map(\.bid) == [1.1212, 1.1213])
        #expect(file.ticks.map(\.sequence) == [1, 2])

        let tardis = try dir.write("mixed.csv", """
            exchange,symbol,timestamp,local_timestamp,id,side,price,amount
            binance,BTCUSDT,1582329602111000,0,1,buy,9682,0.1
            binance,BTCUSDT,notatime,0,2,buy,9682,0.1
            binance,BTCUSDT,1582329602112000,0,3,buy,-5,0.1
            binance,BTCUSDT,1582329602113000,0,4,buy,9682
            binance,ETHUSDT,1582329602114000,0,5,buy,250,1
            binance,BTCUSDT,1582329602115000,0,6,buy,9683,0.2
            """)
        let trades = try ReplayParser.parse(path: tardis, tradeSpreadBps: 1)
        #expect(trades.symbol == "BTCUSDT")
        #expect(trades.ticks.map(\.last) == [9682, 9683])
        #expect(trades.skippedLines == 4, "three malformed lines and one of another symbol")
    }

    @Test("an unknown format, an empty file or a missing file throws ReplayParseError naming the file")
    func errorsNameTheFile() throws {
        let dir = try TempDir()
        let unknown = try dir.write("prices.csv", "time;bid;ask\n2020-01-01;1;2\n")
        let empty = try dir.write("empty.csv", "")
        let blank = try dir.write("blank.csv", "\n\n")
        let headerOnly = try dir.write("header.csv", "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
        let noSymbol = try dir.write("20200101.csv", "20200101 170000065,1.121200,1.121720,0\n")
        let missing = dir.file("missing.csv")
        for path in [unknown, empty, blank, headerOnly, noSymbol, missing] {
            let error = #expect(throws: ReplayParseError.self) { try ReplayParser.parse(path: path, tradeSpreadBps: 1) }
            #expect(error?.file == path)
            #expect(error?.description.contains(path) == true)
            #expect(error?.reason.isEmpty == false)
        }
        #expect((try? ReplayParser.parse(path: empty, tradeSpreadBps: 1)) == nil)
        do {
            _ = try ReplayParser.parse(path: unknown, tradeSpreadBps: 1)
        } catch let error as ReplayParseError {
            #expect(error.reason.contains("unrecognised format"))
        }
        do {
            _ = try ReplayParser.parse(path: noSymbol, tradeSpreadBps: 1)
        } catch let error as ReplayParseError {
            #expect(error.reason.contains("symbol"))
        }
    }

    @Test("equal timestamps keep file order; a row out of order is clamped, never reordered")
    func equalTimestampsKeepOrder() throws {
        let dir = try TempDir()
        let path = try dir.write("burst.csv", """
            exchange,symbol,timestamp,local_timestamp,id,side,price,amount
            binance,BTCUSDT,1582329602150000,0,1,buy,9682.00,0.1
            binance,BTCUSDT,1582329602150000,0,2,buy,9682.19,0.2
            binance,BTCUSDT,1582329602150000,0,3,buy,9682.50,0.3
            binance,BTCUSDT,1582329602140000,0,4,sell,9681.00,0.4
            binance,BTCUSDT,1582329603000000,0,5,sell,9680.00,0.5
            """)
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        #expect(file.ticks.map(\.last) == [9682.00, 9682.19, 9682.50, 9681.00, 9680.00])
        #expect(file.ticks.map(\.volume) == [0.1, 0.2, 0.3, 0.4, 0.5])
        #expect(file.ticks.map(\.sequence) == [1, 2, 3, 4, 5])
        let times = file.ticks.map(\.time)
        #expect(times[0] == times[1] && times[1] == times[2])
        #expect(times[3] == times[2], "the late row takes its predecessor's time")
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("the real BTCUSDT tardis file parses with 9,999 ticks",
          .enabled(if: SharedData.exists(SharedData.btcusdt), "../shared/data/btcusdt-trades-20200222.csv is not present"))
    func realTardisFile() throws {
        let file = try ReplayParser.parse(path: SharedData.btcusdt, tradeSpreadBps: 1)
        #expect(file.ticks.count == 9_999)
        #expect(file.skippedLines == 0)
        #expect(file.symbol == "BTCUSDT")
        #expect(file.format == .tardisTrades)
        #expect(abs(file.start.timeIntervalSince1970 - 1_582_329_602.111) < 1e-6)
        #expect(abs((file.ticks.last?.time.timeIntervalSince1970 ?? 0) - 1_582_337_147.728) < 1e-6)
        #expect(zip(file.ticks, file.ticks.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(file.ticks.allSatisfy { $0.bid > 9_000 && $0.ask > $0.bid && $0.ask < 11_000 })
        #expect(file.ticks.last?.sequence == 9_999)
    }

    @Test("the real EURUSD HistData file parses with 9,500 ticks",
          .enabled(if: SharedData.exists(SharedData.eurusd), "../shared/data/eurusd-quotes-20200101.csv is not present"))
    func realHistDataFile() throws {
        let file = try ReplayParser.parse(path: SharedData.eurusd, tradeSpreadBps: 1)
        #expect(file.ticks.count == 9_500)
        #expect(file.skippedLines == 0)
        #expect(file.symbol == "EURUSD")
        #expect(file.format == .histDataQuotes)
        #expect(abs(file.start.timeIntervalSince1970 - 1_577_916_000.065) < 1e-6)
        // 23:00:52.125 EST is 04:00:52.125 UTC the next day.
        #expect(abs((file.ticks.last?.time.timeIntervalSince1970 ?? 0) - 1_577_937_652.125) < 1e-6)
        #expect(zip(file.ticks, file.ticks.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(file.ticks.allSatisfy { $0.bid > 1 && $0.ask >= $0.bid && $0.ask < 1.2 })
    }

    @Test("ReplaySources loads every CSV of the data directory, sorted",
          .enabled(if: SharedData.exists(SharedData.btcusdt) && SharedData.exists(SharedData.eurusd), "../shared/data is not present"))
    func replaySourcesFromDirectory() throws {
        var config = RouterSettings.Replay()
        config.dataDir = SharedData.directory
        let files = try ReplaySources.load(config: config)
        #expect(files.map(\.symbol) == ["BTCUSDT", "EURUSD"])
        #expect(files.map(\.ticks.count) == [9_999, 9_500])
    }

    @Test("a file past router.replay.max_file_mb is refused with its reason before it is read; one at the limit loads")
    func fileTooLarge() throws {
        let dir = try TempDir()
        // 1 MiB and one row of HistData quotes (39 bytes a row), then the same file one row shorter than 1 MiB.
        let row = "20200101 170000065,1.121200,1.121720,0\n"
        let rows = 1_048_576 / row.utf8.count
        let large = try dir.write("eurusd-quotes-large.csv", String(repeating: row, count: rows + 1))
        let atLimit = try dir.write("eurusd-quotes-small.csv", String(repeating: row, count: rows))
        var config = RouterSettings.Replay()
        config.maxFileMb = 1
        config.files = [atLimit, large]
        let error = #expect(throws: ReplayParseError.self) { try ReplaySources.load(config: config) }
        #expect(error?.file == large)
        #expect(error?.reason.contains("router.replay.max_file_mb (1)") == true)
        #expect(error?.reason.contains("bagbot backtest") == true)
        config.files = [atLimit]
        #expect(try ReplaySources.load(config: config).map(\.ticks.count) == [rows])
        config.maxFileMb = 2
        config.files = [large]
        #expect(try ReplaySources.load(config: config).map(\.ticks.count) == [rows + 1])
    }
}

/// Runs a feed at maximum speed and collects up to `limit` ticks (stopping a looping feed by cancelling its own task).
func collect(_ feed: ReplayFeed, base: Date, limit: Int = .max) async -> [Tick] {
    // Its own task, so that stopping the feed does not cancel the test's task.
    let task = Task { () -> [Tick] in
        var ticks: [Tick] = []
        await feed.run(startingAt: base) { tick in
            ticks.append(tick)
            if ticks.count >= limit { withUnsafeCurrentTask { $0?.cancel() } }
        }
        return ticks
    }
    return await task.value
}

/// Ticks 0.02 wide around `mids`, with 4 decimals as a venue would quote them.
func replayFile(_ symbol: String, start: Date, offsets: [Double], mids: [ExactDecimal]) -> ReplayFile {
    let ticks = zip(offsets, mids).enumerated().map { index, pair in
        let mid = try! pair.1.rounded(toScale: 4, rounding: .halfEven)
        return Tick(symbol: symbol, time: start.addingTimeInterval(pair.0), bid: try! mid - 0.01, ask: try! mid + 0.01, last: mid,
             volume: 1, sequence: UInt64(index + 1), source: "test")
    }
    return ReplayFile(path: "/tmp/\(symbol).csv", symbol: symbol, format: .tardisTrades, ticks: ticks, skippedLines: 0)
}

@Suite("ReplayFeed")
struct ReplayFeedTests {
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("at speed max, two files are merged in time order, each starting at the replay start")
    func mergesFilesInTimeOrder() async {
        let a = replayFile("AAAUSDT", start: Date(timeIntervalSince1970: 1_577_916_000), offsets: [0, 1, 3], mids: [10, 11, 12])
        let b = replayFile("BBBUSDT", start: Date(timeIntervalSince1970: 1_582_329_602), offsets: [0, 0.5, 2], mids: [20, 21, 22])
        let ticks = await collect(ReplayFeed(files: [a, b], speed: .max, loop: false), base: base)

        #expect(ticks.map(\.symbol) == ["AAAUSDT", "BBBUSDT", "BBBUSDT", "AAAUSDT", "BBBUSDT", "AAAUSDT"])
        #expect(ticks.map { $0.time.timeIntervalSince(base) } == [0, 0, 0.5, 1, 2, 3])
        #expect(ticks.map(\.last) == [10, 20, 21, 11, 22, 12])
        #expect(ticks.filter { $0.symbol == "AAAUSDT" }.map(\.sequence) == [1, 2, 3])
    }

    @Test("two files of one symbol are numbered together: no two of its ticks share a sequence (the pacer and the paper venue find ticks by it)")
    func oneSymbolTwoFiles() async {
        let a = replayFile("AAAUSDT", start: Date(timeIntervalSince1970: 1_577_916_000), offsets: [0, 1, 3], mids: [10, 11, 12])
        let b = replayFile("AAAUSDT", start: Date(timeIntervalSince1970: 1_582_329_602), offsets: [0, 0.5, 2], mids: [20, 21, 22])
        let ticks = await collect(ReplayFeed(files: [a, b], speed: .max, loop: false), base: base)
        #expect(ticks.map(\.last) == [10, 20, 21, 11, 22, 12])
        #expect(ticks.map(\.sequence) == [1, 2, 3, 4, 5, 6])
    }

    @Test("the real files replay together in time order from the same start",
          .enabled(if: SharedData.exists(SharedData.btcusdt) && SharedData.exists(SharedData.eurusd), "../shared/data is not present"))
    func realFilesMerge() async throws {
        let btc = try ReplayParser.parse(path: SharedData.btcusdt, tradeSpreadBps: 1)
        let eur = try ReplayParser.parse(path: SharedData.eurusd, tradeSpreadBps: 1)
        let ticks = await collect(ReplayFeed(files: [btc, eur], speed: .max, loop: false), base: base)
        #expect(ticks.count == 9_999 + 9_500)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(ticks.first { $0.symbol == "BTCUSDT" }?.time == base)
        #expect(ticks.first { $0.symbol == "EURUSD" }?.time == base)
        // Each file keeps its own gaps.
        let lastBTC = try #require(ticks.last { $0.symbol == "BTCUSDT" })
        #expect(abs(lastBTC.time.timeIntervalSince(base) - btc.duration) < 1e-6)
    }

    @Test("with loop, times keep increasing and prices continue across the seam")
    func loopContinues() async throws {
        let file = replayFile("AAAUSDT", start: Date(timeIntervalSince1970: 1_600_000_000), offsets: [0, 1, 2], mids: [100, 101, 102])
        let ticks = await collect(ReplayFeed(files: [file], speed: .max, loop: true), base: base, limit: 9)
        try #require(ticks.count == 9)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.time < $1.time })
        #expect(ticks.map(\.sequence) == Array(1...9))
        // The second cycle starts where the first ended (102), not back at 100, on the file's 4 decimals.
        #expect(ticks[3].mid == 102)
        #expect(ticks[4].mid == 103.02)
        #expect(ticks[6].mid == 104.04)
        #expect(ticks.allSatisfy { $0.bid.scale == 4 && $0.ask.scale == 4 && $0.last.scale == 4 })
        // Relative moves inside each cycle are those of the file.
        for cycle in 0..<3 {
            let first = ticks[cycle * 3].midValue
            #expect(abs(ticks[cycle * 3 + 2].midValue / first - 1.02) < 1e-6)
        }
        #expect(ticks[3].time.timeIntervalSince(ticks[2].time) > 0)
    }

    @Test("a looped tick whose scaled prices cannot be quoted is skipped, never replayed unscaled")
    func unquotableLoopedTicksAreSkipped() async {
        // Whole-number prices 4, 1, 2: each cycle is scaled by 2 / 4. In the second cycle the middle tick's
        // 1 × 0.5 rounds to 0: it is left out (its sequence number missing), not replayed at 1.
        let file = Self.pricedFile("halving", [4, 1, 2])
        let delivered = await collect(ReplayFeed(files: [file], speed: .max, loop: true), base: base, limit: 5)
        #expect(delivered.map(\.sequence) == [1, 2, 3, 4, 6])
        #expect(delivered.map(\.bid) == [4, 1, 2, 2, 1])
    }

    /// A file of one symbol whose ticks, a second apart, have `prices` as bid, ask and last.
    static func pricedFile(_ path: String, _ prices: [ExactDecimal]) -> ReplayFile {
        let start = Date(timeIntervalSince1970: 1_600_000_000)
        let ticks = zip(prices, 0...).map { price, index in
            Tick(symbol: "AAAUSDT", time: start.addingTimeInterval(Double(index)), bid: price, ask: price, last: price, volume: 0,
                 sequence: UInt64(index + 1), source: "test")
        }
        return ReplayFile(path: path, symbol: "AAAUSDT", format: .tardisTrades, ticks: ticks, skippedLines: 0)
    }

    @Test("a price repeated in a looped file is scaled alike every time, each cycle anew, keeping its own decimals")
    func repeatedPricesAcrossCycles() async throws {
        // 2.0 and 2.00 are one value written two ways: each keeps its scale. The file ends at 4 (scale 2 a cycle).
        let file = Self.pricedFile("repeats", [ExactDecimal(mantissa: 20, scale: 1), ExactDecimal(mantissa: 200, scale: 2),
                                               ExactDecimal(mantissa: 20, scale: 1), 4])
        let delivered = await collect(ReplayFeed(files: [file], speed: .max, loop: true), base: base, limit: 12)
        try #require(delivered.count == 12)
        let bids = delivered.map(\.bid)
        #expect(bids == [2, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 16])
        #expect(bids.map(\.scale) == [1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0])
    }

    @Test("two prices that share a slot of the scaled-price cache are each scaled as themselves")
    func scaledPriceSlotsCollide() async throws {
        // 1.00 and 6.12 (mantissas 100 and 612 at scale 2) fall in the same slot; the file ends at 2.00 (scale 2 a cycle).
        let file = Self.pricedFile("collisions", [100, 612, 100, 612, 200].map { ExactDecimal(mantissa: $0, scale: 2) })
        let delivered = await collect(ReplayFeed(files: [file], speed: .max, loop: true), base: base, limit: 10)
        try #require(delivered.count == 10)
        #expect(delivered.map(\.bid) == [1, 6.12, 1, 6.12, 2, 2, 12.24, 2, 12.24, 4])
    }

    @Test("two looping files stay in time order across several cycles")
    func twoLoopingFiles() async {
        let a = replayFile("AAAUSDT", start: Date(timeIntervalSince1970: 1_600_000_000), offsets: [0, 0.3, 0.9], mids: [1, 2, 3])
        let b = replayFile("BBBUSDT", start: Date(timeIntervalSince1970: 1_500_000_000), offsets: [0, 2.5], mids: [5, 6])
        let ticks = await collect(ReplayFeed(files: [a, b], speed: .max, loop: true), base: base, limit: 60)
        #expect(ticks.count == 60)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.time <= $1.time })
        for symbol in ["AAAUSDT", "BBBUSDT"] {
            let own = ticks.filter { $0.symbol == symbol }
            #expect(zip(own, own.dropFirst()).allSatisfy { $0.time < $1.time && $0.sequence < $1.sequence })
        }
    }

    @Test("a feed with no files ends at once")
    func emptyFeed() async {
        let ticks = await collect(ReplayFeed(files: [], speed: .max, loop: true), base: base)
        #expect(ticks.isEmpty)
    }
}
