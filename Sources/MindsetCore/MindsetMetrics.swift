import Metrics
import BagbotDomain
import BagbotRuntime

/// mindsetd in Prometheus (docs/observability.md), read from its state at each scrape: the emotion state (one gauge
/// per state, 1 for the current one), the day's P&L as the limits judge it, the give-back from the day's peak, and
/// decisions by outcome and blocks by reason (from the totals the engine keeps). Gauges, not money: the exact
/// figures are in `GET /api/mindset`.
struct MindsetMetrics: Sendable {
    private let emotion = Dictionary(uniqueKeysWithValues: EmotionState.allCases.map {
        ($0.rawValue, Gauge(label: "bagbot_mindset_emotion_state", dimensions: [("state", $0.rawValue)]))
    })
    private let dailyPnl = Gauge(label: "bagbot_mindset_daily_pnl")
    private let drawdown = Gauge(label: "bagbot_mindset_drawdown")
    private let dailyLossLimit = Gauge(label: "bagbot_mindset_daily_loss_limit")
    private let totals = CounterMirror()

    func update(from state: MindsetSnapshot) {
        for (name, gauge) in emotion { gauge.record(name == state.emotionState ? 1 : 0) }
        let judged = state.judgedPnl ?? state.dailyPnl
        dailyPnl.record(judged.doubleValue)
        drawdown.record(max(0, (try? state.intradayPeak - judged)?.doubleValue ?? 0))
        dailyLossLimit.record(state.dailyLossLimit.doubleValue)
        totals.follow("bagbot_mindset_decisions_total", [("outcome", "approved")], total: state.approvals)
        totals.follow("bagbot_mindset_decisions_total", [("outcome", "blocked")], total: state.decisions - state.approvals)
        for (reason, count) in state.blocksByReason {
            totals.follow("bagbot_mindset_blocks_total", [("reason", reason)], total: count)
        }
    }
}
