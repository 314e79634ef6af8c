import Synchronization
import CoreMetrics
import Metrics

/// Prometheus counters that follow totals a daemon already keeps (the mindset's decisions and blocks by reason),
/// read at each scrape: each series goes up by what its total grew since the highest total seen. The totals only
/// grow within a process (a restart starts a new mirror, and Prometheus sees the reset), so a lower one is a stale
/// read — two scrapes crossing — and adds nothing.
public final class CounterMirror: Sendable {
    private struct Series: Hashable {
        var name: String
        var labels: [String]
    }

    private let seen = Mutex<[Series: (total: Int, counter: Metrics.Counter)]>([:])

    private let factory: any MetricsFactory

    /// `factory`: where the counters are made (swift-metrics' bootstrapped one; a test's).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    public func follow(_ name: String, _ labels: [(String, String)] = [], total: Int) {
        let series = Series(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        let (counter, grown) = seen.withLock { seen -> (Metrics.Counter, Int) in
            let known = seen[series]
            let counter = known?.counter ?? Metrics.Counter(label: name, dimensions: labels, factory: factory)
            let highest = known?.total ?? 0
            seen[series] = (max(total, highest), counter)
            let grown = max(0, total - highest)
            return (counter, grown)
        }
        if grown > 0 { counter.increment(by: grown) }
    }
}
