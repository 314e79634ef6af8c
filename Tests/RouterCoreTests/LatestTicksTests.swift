import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("LatestTicks: a venue's ticks handed to routerd, the newest per symbol")
struct LatestTicksTests {
    func tick(_ symbol: String, _ sequence: UInt64) -> Tick {
        Tick(symbol: symbol, time: Date(timeIntervalSince1970: 0), bid: 1, ask: 2, last: 1, volume: 0, sequence: sequence, source: "test")
    }

    @Test("while nobody takes them, each symbol keeps only its newest tick, in the order the symbols first came; the rest are counted")
    func newestPerSymbol() async {
        let handOver = LatestTicks()
        for (symbol, sequence) in [("A", 1), ("B", 1), ("A", 2), ("A", 3), ("C", 1), ("B", 2)] as [(String, UInt64)] {
            handOver.put(tick(symbol, sequence))
        }
        let first = await handOver.next()
        #expect(first.map { "\($0.symbol)\($0.sequence)" } == "A3")
        // While the consumer delivers one, the others can still be replaced.
        handOver.put(tick("C", 2))
        var rest: [String] = []
        for _ in 0..<2 { if let next = await handOver.next() { rest.append("\(next.symbol)\(next.sequence)") } }
        #expect(rest == ["B2", "C2"])
        #expect(handOver.replacedCount == 4)
        handOver.put(tick("A", 4))
        #expect(await handOver.next()?.sequence == 4)
        #expect(handOver.replacedCount == 4)
    }

    @Test("a consumer waiting gets the next tick as it comes; after finish it gets what waits, then nil, and puts are ignored")
    func waitingAndFinish() async {
        let handOver = LatestTicks()
        async let taken = handOver.next()
        try? await Task.sleep(for: .milliseconds(50))
        handOver.put(tick("A", 7))
        #expect(await taken?.sequence == 7)
        handOver.put(tick("B", 1))
        handOver.finish()
        handOver.put(tick("C", 1))
        #expect(await handOver.next()?.symbol == "B")
        #expect(await handOver.next() == nil)
        async let ended = handOver.next()
        #expect(await ended == nil)
    }

    @Test("finish wakes a consumer that is waiting")
    func finishWakes() async {
        let handOver = LatestTicks()
        async let taken = handOver.next()
        try? await Task.sleep(for: .milliseconds(50))
        handOver.finish()
        #expect(await taken == nil)
    }
}
