import NIOConcurrencyHelpers
import Metrics
import BagbotDomain

/// How long an order takes from the tick it was decided on to its venue: from the moment routerd's feed takes the
/// tick to publish it (before the venue records it and the event goes out) to the moment the order, which names
/// that tick (`PlaceOrderRequest.quoteSequence`), is handed to the venue — strategies, mindsetd and both IPC hops
/// in between. Kept for the last `sampleCapacity` orders; read in routerd's health (`tick_to_order_*`).
public final class TickToOrderLatency: Sendable {
    /// Per symbol, when each of its last `publishedCapacity` ticks was published, by sequence.
    struct PublishedTicks {
        var sequences: [UInt64]
        var instants: [ContinuousClock.Instant]

        init(capacity: Int, zero: ContinuousClock.Instant) {
            sequences = Array(repeating: 0, count: capacity)
            instants = Array(repeating: zero, count: capacity)
        }
    }

    struct State {
        var published: [String: PublishedTicks] = [:]
        /// Nanoseconds, a ring of the last `sampleCapacity` orders.
        var samples: [Int64] = []
        var nextSample = 0
        var orders = 0
        /// Orders whose tick was no longer (or never) known: decided on a tick older than the window, or on a
        /// tick of another feed.
        var unmatched = 0
    }

    public struct Summary: Sendable, Equatable {
        public var orders: Int
        public var unmatched: Int
        /// Over the kept samples; nil before the first order.
        public var p50Microseconds: Int64?
        public var p99Microseconds: Int64?
        public var maxMicroseconds: Int64?
    }

    /// At 10,000 ticks/s of one symbol, 6.5 s of ticks: an order decided on an older tick is counted unmatched.
    let publishedCapacity: Int
    let sampleCapacity: Int
    private let state = NIOLockedValueBox(State())
    /// Every matched order's latency, for Prometheus (the ring above is for routerd's health).
    private let histogram = Metrics.Timer(label: "bagbot_tick_to_order_seconds")

    public init(publishedCapacity: Int = 65_536, sampleCapacity: Int = 8_192) {
        self.publishedCapacity = max(1, publishedCapacity)
        self.sampleCapacity = max(1, sampleCapacity)
    }

    public func published(_ tick: Tick, at now: ContinuousClock.Instant = .now) {
        let capacity = publishedCapacity
        state.withLockedValue { state in
            let slot = Int(tick.sequence % UInt64(capacity))
            if state.published[tick.symbol] == nil {
                state.published[tick.symbol] = PublishedTicks(capacity: capacity, zero: now)
            }
            state.published[tick.symbol]!.sequences[slot] = tick.sequence
            state.published[tick.symbol]!.instants[slot] = now
        }
    }

    /// An order decided on tick `quoteSequence` of `symbol` is handed to its venue now. Orders that name no tick
    /// (the trader's own) are not counted.
    public func handedToVenue(symbol: String, quoteSequence: UInt64?, at now: ContinuousClock.Instant = .now) {
        guard let sequence = quoteSequence, sequence > 0 else { return }
        let (capacity, limit) = (publishedCapacity, sampleCapacity)
        state.withLockedValue { state in
            state.orders += 1
            let slot = Int(sequence % UInt64(capacity))
            guard let ticks = state.published[symbol], ticks.sequences[slot] == sequence else {
                state.unmatched += 1
                return
            }
            let elapsed = now - ticks.instants[slot]
            // Taken before the lock: a tick published in between (its slot reused) is not this order's.
            guard elapsed >= .zero else {
                state.unmatched += 1
                return
            }
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            histogram.recordNanoseconds(nanoseconds)
            if state.samples.count < limit {
                state.samples.append(nanoseconds)
            } else {
                state.samples[state.nextSample] = nanoseconds
            }
            state.nextSample = (state.nextSample + 1) % limit
        }
    }

    public var summary: Summary {
        let (samples, orders, unmatched) = state.withLockedValue { ($0.samples, $0.orders, $0.unmatched) }
        let sorted = samples.sorted()
        func percentile(_ fraction: Double) -> Int64? {
            guard !sorted.isEmpty else { return nil }
            // Nearest rank.
            let rank = Int((fraction * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1] / 1_000
        }
        return Summary(orders: orders, unmatched: unmatched, p50Microseconds: percentile(0.5), p99Microseconds: percentile(0.99),
                       maxMicroseconds: sorted.last.map { $0 / 1_000 })
    }

    /// For routerd's health report.
    public var details: [String: String] {
        let summary = summary
        var details = ["tick_to_order_orders": "\(summary.orders)", "tick_to_order_unmatched": "\(summary.unmatched)"]
        if let p50 = summary.p50Microseconds, let p99 = summary.p99Microseconds, let max = summary.maxMicroseconds {
            details["tick_to_order_p50_us"] = "\(p50)"
            details["tick_to_order_p99_us"] = "\(p99)"
            details["tick_to_order_max_us"] = "\(max)"
        }
        return details
    }
}
