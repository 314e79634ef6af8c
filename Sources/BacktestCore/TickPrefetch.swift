import Foundation
import BagbotDomain

/// The merged stream read on a thread of its own, a few batches ahead of the trade path: reading and parsing
/// was a quarter of a backtest's time on the one thread, and the trade path waits for no file. The ticks and
/// their order are the merge's own, so a backtest gives the same orders every run (docs/backtest.md).
final class TickPrefetch: @unchecked Sendable {
    static let batchSize = 4_096
    static let batchesAhead = 4

    /// The producer thread's alone (until it has finished).
    private var merge: TickMerge

    /// Guards what follows, and is signalled when a batch is taken or added, at the end, and on `stop`.
    private let condition = NSCondition()
    private var batches: [ContiguousArray<Tick>] = []
    /// Batches gone through, handed back: their ticks are released on the reader's thread, which made them
    /// (freed by the trade path's thread, they cost it a seventh of its time).
    private var spent: [ContiguousArray<Tick>] = []
    private var ended = false
    private var stopped = false
    private var endSources: [BacktestReport.Source] = []
    private var exited = false

    /// The consumer's alone: the batch it is going through.
    private var batch = ContiguousArray<Tick>()
    private var position = 0

    init(_ merge: TickMerge) {
        self.merge = merge
        let thread = Thread { [self] in produce() }
        thread.name = "bagbot-backtest-reader"
        thread.start()
    }

    /// The next tick of the stream; nil at its end, or after `stop` once the batch in hand is gone through. Blocks
    /// its caller's thread while the reader is behind: the backtest's loop, which has nothing else to do then (a
    /// daemon's loop must not call it).
    func next() -> Tick? {
        if position < batch.count {
            position += 1
            return batch[position - 1]
        }
        condition.lock()
        while batches.isEmpty && !ended && !stopped { condition.wait() }
        guard !stopped, !batches.isEmpty else {
            condition.unlock()
            return nil
        }
        var taken = batches.removeFirst()
        swap(&taken, &batch)
        spent.append(taken)
        condition.signal()
        condition.unlock()
        position = 1
        return batch[0]
    }

    /// Each file with the ticks it gave and the lines it skipped; complete once `next` has returned nil.
    var sources: [BacktestReport.Source] {
        condition.lock()
        defer { condition.unlock() }
        return endSources
    }

    /// Whether the reader's thread has returned (at the stream's end, or let go by `stop`).
    var readerHasExited: Bool {
        condition.lock()
        defer { condition.unlock() }
        return exited
    }

    /// Lets the reader go when the stream will not be read to its end.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func produce() {
        defer {
            condition.lock()
            exited = true
            condition.unlock()
        }
        while true {
            condition.lock()
            var filling = spent.popLast() ?? ContiguousArray<Tick>()
            condition.unlock()
            filling.removeAll(keepingCapacity: true)
            filling.reserveCapacity(Self.batchSize)
            while filling.count < Self.batchSize, let tick = merge.next() { filling.append(tick) }
            let last = filling.count < Self.batchSize
            condition.lock()
            while batches.count >= Self.batchesAhead && !stopped { condition.wait() }
            if !stopped {
                if !filling.isEmpty { batches.append(filling) }
                if last {
                    ended = true
                    endSources = merge.sources
                }
                condition.signal()
            }
            let done = last || stopped
            condition.unlock()
            if done { return }
        }
    }
}
