import Foundation
import NIOConcurrencyHelpers
import Testing
import BagbotDomain
import BagbotTestSupport
import RouterCore
@testable import BacktestCore

@Suite("TickPrefetch: the files read ahead on a thread of their own")
struct TickPrefetchTests {
    /// `count` HistData rows `stepMs` apart from 2020-01-01 17:00:00.000 + `offsetMs`, prices moving with the row.
    static func quotes(_ name: String, count: Int, stepMs: Int, offsetMs: Int, in dir: TempDir) throws -> String {
        var text = ""
        for index in 0..<count {
            let ms = 17 * 3_600_000 + offsetMs + index * stepMs
            let (hours, minutes, seconds, millis) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000)
            let pips = 10_000 + index % 97
            text += "20200101 " + [hours, minutes, seconds].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
                + String(millis + 1_000).dropFirst() + ",1.\(pips),1.\(pips + 2),0\n"
        }
        return try dir.write(name, text)
    }

    static func readers(_ files: [String]) throws -> [ReplayReader] {
        try files.map { try ReplayReader(path: $0, tradeSpreadBps: 1, mapped: true) }
    }

    /// Around and across the batch size: the prefetch gives what the merge gives, in its order, then nil; and
    /// the same count per file.
    @Test(arguments: [1, TickPrefetch.batchSize - 1, TickPrefetch.batchSize, TickPrefetch.batchSize + 1, 3 * TickPrefetch.batchSize + 5])
    func givesTheMergedStreamAsItIs(count: Int) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // Two files on one clock, some rows at the same millisecond (a tie goes to the file named first).
        let files = [try Self.quotes("eurusd-a.csv", count: count, stepMs: 2, offsetMs: 0, in: dir),
                     try Self.quotes("gbpusd-b.csv", count: count / 2 + 1, stepMs: 3, offsetMs: 1, in: dir)]
        var merge = TickMerge(readers: try Self.readers(files), from: nil, to: nil)
        var expected: [Tick] = []
        while let tick = merge.next() { expected.append(tick) }
        #expect(expected.count == count + count / 2 + 1)

        let prefetch = TickPrefetch(TickMerge(readers: try Self.readers(files), from: nil, to: nil))
        var read: [Tick] = []
        while let tick = prefetch.next() { read.append(tick) }
        #expect(read.count == expected.count)
        #expect(read == expected)
        #expect(prefetch.next() == nil, "the end stays the end")
        #expect(prefetch.sources == merge.sources)
    }

    /// A session dropped before its end (a backtest that failed) does not leave its reader waiting forever.
    @Test func anAbandonedReaderLetsGo() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let file = try Self.quotes("eurusd-a.csv", count: 20 * TickPrefetch.batchSize, stepMs: 1, offsetMs: 0, in: dir)
        let prefetch = TickPrefetch(TickMerge(readers: try Self.readers([file]), from: nil, to: nil))
        #expect(prefetch.next() != nil)
        prefetch.stop()
        let deadline = Date().addingTimeInterval(30)
        while !prefetch.readerHasExited && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(prefetch.readerHasExited)
        // And whoever still reads gets the end of the stream, not a wait for a reader that is gone.
        let drained = NIOLockedValueBox<Int?>(nil)
        Thread {
            var count = 0
            while prefetch.next() != nil { count += 1 }
            drained.withLockedValue { $0 = count }
        }.start()
        while drained.withLockedValue({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let count = try #require(drained.withLockedValue { $0 }, "next() after stop() must not wait forever")
        #expect(count < TickPrefetch.batchSize, "the batch in hand at most")
    }
}
