import Foundation
import BagbotDomain
import RouterCore

/// The session's files as one stream in market time (a tie goes to the file named first), cut to `from`–`to`.
struct TickMerge {
    private var readers: [ReplayReader]
    private var heads: [Tick?]
    private var counts: [Int]
    private let from: Date?
    private let to: Date?

    init(readers: [ReplayReader], from: Date?, to: Date?) {
        self.readers = readers
        self.from = from
        self.to = to
        heads = Array(repeating: nil, count: readers.count)
        counts = Array(repeating: 0, count: readers.count)
        for index in readers.indices { heads[index] = pull(index) }
    }

    /// The next tick of the stream; nil at its end.
    mutating func next() -> Tick? {
        var best: Int?
        for index in heads.indices {
            guard let head = heads[index] else { continue }
            if best.map({ head.time < heads[$0]!.time }) ?? true { best = index }
        }
        guard let index = best, let tick = heads[index] else { return nil }
        heads[index] = pull(index)
        counts[index] += 1
        return tick
    }

    /// Each file with the ticks it gave so far and the lines it skipped.
    var sources: [BacktestReport.Source] {
        readers.indices.map {
            BacktestReport.Source(path: readers[$0].path, symbol: readers[$0].symbol, ticks: counts[$0], skippedLines: readers[$0].skippedLines)
        }
    }

    /// The reader's next tick at or after `from` (nil at its end or past `to`).
    private mutating func pull(_ index: Int) -> Tick? {
        while let tick = readers[index].next() {
            if let from, tick.time < from { continue }
            if let to, tick.time > to { return nil }
            return tick
        }
        return nil
    }
}
