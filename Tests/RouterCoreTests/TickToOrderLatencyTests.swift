import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Tick-to-order latency")
struct TickToOrderLatencyTests {
    private func tick(_ symbol: String, _ sequence: UInt64) -> Tick {
        Tick(symbol: symbol, time: Date(timeIntervalSince1970: 0), bid: 1, ask: 2, last: 1.5, volume: 0, sequence: sequence, source: "test")
    }

    @Test("each order is timed from its own tick's publication; percentiles by nearest rank over the orders")
    func percentiles() {
        let latency = TickToOrderLatency()
        let start = ContinuousClock.now
        for sequence in 1...100 as ClosedRange<UInt64> {
            latency.published(tick("BTCUSDT", sequence), at: start + .milliseconds(Int(sequence)))
        }
        latency.published(tick("EURUSD", 7), at: start)
        // Order n decided on tick n, handed over n µs after it was published.
        for sequence in 1...100 as ClosedRange<UInt64> {
            latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: sequence,
                                  at: start + .milliseconds(Int(sequence)) + .microseconds(Int(sequence)))
        }
        latency.handedToVenue(symbol: "EURUSD", quoteSequence: 7, at: start + .microseconds(5_000))
        let summary = latency.summary
        #expect(summary.orders == 101 && summary.unmatched == 0)
        #expect(summary.p50Microseconds == 51, "the 51st of 101 sorted samples")
        #expect(summary.p99Microseconds == 100)
        #expect(summary.maxMicroseconds == 5_000)
        #expect(latency.details["tick_to_order_p99_us"] == "100")
    }

    @Test("an order on a tick no longer kept, or on another symbol's tick, is counted unmatched; the trader's own orders are not counted")
    func unmatched() {
        let latency = TickToOrderLatency(publishedCapacity: 4)
        let start = ContinuousClock.now
        for sequence in 1...6 as ClosedRange<UInt64> { latency.published(tick("BTCUSDT", sequence), at: start) }
        latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: 2, at: start)
        latency.handedToVenue(symbol: "ETHUSDT", quoteSequence: 6, at: start)
        latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: nil, at: start)
        latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: 6, at: start + .microseconds(3))
        let summary = latency.summary
        #expect(summary.orders == 3 && summary.unmatched == 2)
        #expect(summary.p50Microseconds == 3)
        #expect(TickToOrderLatency().details == ["tick_to_order_orders": "0", "tick_to_order_unmatched": "0"], "no percentiles before an order")
    }

    @Test("an order timed before its tick's slot was written again is unmatched, never a negative time")
    func neverNegative() {
        let latency = TickToOrderLatency()
        let start = ContinuousClock.now
        latency.published(tick("BTCUSDT", 3), at: start + .milliseconds(5))
        latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: 3, at: start)
        #expect(latency.summary.unmatched == 1 && latency.summary.p50Microseconds == nil)
    }

    @Test("the samples kept are the last ones")
    func ring() {
        let latency = TickToOrderLatency(sampleCapacity: 3)
        let start = ContinuousClock.now
        latency.published(tick("BTCUSDT", 1), at: start)
        for micros in [1_000, 1, 2, 3] { latency.handedToVenue(symbol: "BTCUSDT", quoteSequence: 1, at: start + .microseconds(micros)) }
        #expect(latency.summary.maxMicroseconds == 3)
        #expect(latency.summary.orders == 4)
    }
}
