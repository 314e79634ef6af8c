/// The `# HELP` text of every metric BAGBOT exports, in one place: swift-metrics carries none, and Prometheus's lint
/// (`promtool check metrics`, run by the tests) wants one for each family. docs/observability.md lists them too.
public enum MetricHelp {
    public static let text: [String: String] = [
        // Every process
        "bagbot_daemon_up": "1 when the process answered the gateway's scrape within 1 s, else 0.",
        "bagbot_ipc_reconnects_total": "Connections to a peer daemon made after the first (each one a reconnect).",
        "process_resident_memory_bytes": "Resident memory of the process.",
        "process_open_fds": "Open file descriptors of the process.",
        "process_max_fds": "The process's limit on open file descriptors.",
        "process_cpu_seconds_total": "User and system CPU time the process has used.",
        "process_start_time_seconds": "When the process started, in seconds since the Unix epoch.",
        // gateway
        "bagbot_api_requests_total": "API calls by the caller's tier (none: no valid token, or a public path), route pattern, method and status.",
        "bagbot_api_request_duration_seconds": "Time from a request reaching the router to its response, by route pattern.",
        "bagbot_usage_buffer_dropped_total": "API calls not written to usage_logs because the usage buffer was full.",
        // arsenald
        "bagbot_ticks_received_total": "Ticks arsenald received from routerd, by symbol and source.",
        "bagbot_ticks_processed_total": "Ticks arsenald's strategies acted on, by symbol and source.",
        "bagbot_ticks_dropped_total": "Ticks dropped from arsenald's buffer because the strategies fell behind.",
        "bagbot_signals_total": "Signals by strategy and what came of them (placed, rejected, blocked, below_minimum, not_sent, unknown).",
        // mindsetd
        "bagbot_mindset_emotion_state": "1 for the mindset's current emotion state, 0 for the others.",
        "bagbot_mindset_daily_pnl": "The day's P&L as the mindset's limits judge it (the worse of realised and equity change), in the account currency.",
        "bagbot_mindset_drawdown": "How far the day's judged P&L is below its intraday peak, in the account currency.",
        "bagbot_mindset_daily_loss_limit": "Today's daily loss limit, in the account currency.",
        "bagbot_mindset_decisions_total": "Mindset decisions by outcome (approved, blocked).",
        "bagbot_mindset_blocks_total": "Blocked mindset decisions by reason code.",
        // routerd
        "bagbot_orders_total": "Orders by venue and the status they were recorded in (each status an order takes counts once).",
        "bagbot_fills_total": "Fills recorded, by venue.",
        "bagbot_orders_unsettled": "Orders whose outcome is being looked up at their venue (unknown, or sent and not found yet).",
        "bagbot_venue_orders_held": "1 while new orders to the venue are refused: its order stream is down or its orders not reconciled since it came back.",
        "bagbot_order_round_trip_seconds": "Time from handing a new order to its venue to the venue's answer, by venue.",
        "bagbot_tick_to_order_seconds": "Time from routerd publishing a tick to handing the order decided on it to its venue.",
        "bagbot_venue_request_weight_used": "Request weight the venue counts as used by this IP in the interval (Binance's X-MBX-USED-WEIGHT-1M).",
        "bagbot_venue_refusals_total": "Requests the venue refused for rate limits, by kind (rate_limited: 429, banned: 418).",
    ]
}
