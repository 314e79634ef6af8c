import Synchronization
import Metrics

/// Prometheus counters that follow totals a daemon already keeps (the mindset's decisions and blocks by reason),
/// read at each scrape: each series goes up by what its total grew since the last read. A total that went down
/// (the day's counts reset, or the daemon restarted) counts what it holds now as new, so the counter never goes
/// back — as Prometheus expects of a `_total`.
public final class CounterMirror: Sendable {
    private struct Series: Hashable {
        var name: String
        var labels: [String]
    }

    private let seen = Mutex<[Series: (total: Int, counter: Metrics.Counter)]>([:])

    public init() {}

    public func follow(_ name: String, _ labels: [(String, String)] = [], total: Int) {
        let series = Series(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        let (counter, grown) = seen.withLock { seen -> (Metrics.Counter, Int) in
            let known = seen[series]
            let counter = known?.counter ?? Metrics.Counter(label: name, dimensions: labels)
            let grown = total >= (known?.total ?? 0) ? total - (known?.total ?? 0) : total
            seen[series] = (total, counter)
            return (counter, grown)
        }
        if grown > 0 { counter.increment(by: grown) }
    }
}
