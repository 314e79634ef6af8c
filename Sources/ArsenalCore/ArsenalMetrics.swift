import Metrics
import NIOConcurrencyHelpers
import BagbotDomain

/// arsenald in Prometheus (docs/observability.md): ticks received from routerd and acted on, by symbol and source;
/// ticks dropped because the strategies fell behind; signals by strategy and what came of them. Handles are made
/// once per series and kept. Only the daemon counts: a backtest's coordinator pays nothing for it.
final class ArsenalMetrics: Sendable {
    private struct Series: Hashable {
        var symbol: String
        var source: String
    }

    private struct Handles {
        var received: [Series: Metrics.Counter] = [:]
        var processed: [Series: Metrics.Counter] = [:]
        var signals: [String: Metrics.Counter] = [:]
    }

    private let handles = NIOLockedValueBox(Handles())
    private let dropped = Metrics.Counter(label: "bagbot_ticks_dropped_total")

    func received(_ tick: Tick) {
        counter(\.received, "bagbot_ticks_received_total", tick).increment()
    }

    func processed(_ tick: Tick) {
        counter(\.processed, "bagbot_ticks_processed_total", tick).increment()
    }

    func droppedTick() {
        dropped.increment()
    }

    func signal(from strategyId: String, _ outcome: TradeOutcome) {
        let label = outcome.metricLabel
        handles.withLockedValue { handles in
            let key = strategyId + "\u{0}" + label
            if let counter = handles.signals[key] { return counter }
            let counter = Metrics.Counter(label: "bagbot_signals_total", dimensions: [("strategy", strategyId), ("outcome", label)])
            handles.signals[key] = counter
            return counter
        }.increment()
    }

    private func counter(_ path: WritableKeyPath<Handles, [Series: Metrics.Counter]>, _ name: String, _ tick: Tick) -> Metrics.Counter {
        let series = Series(symbol: tick.symbol, source: tick.source)
        return handles.withLockedValue { handles in
            if let counter = handles[keyPath: path][series] { return counter }
            let counter = Metrics.Counter(label: name, dimensions: [("symbol", series.symbol), ("source", series.source)])
            handles[keyPath: path][series] = counter
            return counter
        }
    }
}

extension TradeOutcome {
    /// The `outcome` label of `bagbot_signals_total`.
    var metricLabel: String {
        switch self {
        case .notSent: "not_sent"
        case .belowMinimum: "below_minimum"
        case .blocked: "blocked"
        case .placed(let order, _): order.status == .rejected ? "rejected" : "placed"
        case .unknown: "unknown"
        }
    }
}
