import BagbotDomain
import BagbotIPC

extension HealthReport {
    /// This report with the facts every daemon process reports about itself: `dropped_log_lines`, the log
    /// lines lost because standard error was not read (see `LogWriter`), so an operator sees the loss in
    /// `health` and `/healthz` even when the log itself is what was lost. And how the IPC clients' busy
    /// polling for replies ended (`busy_poll_replies`: a reply came while polling; `busy_poll_budget_spent`:
    /// the loop went to sleep after all), so an operator sees whether it pays (see `ReplyBusyPoller`).
    public func withProcessDetails() -> HealthReport {
        var report = self
        report.details["version"] = BagbotVersion.current
        report.details["dropped_log_lines"] = "\(LogWriter.shared.droppedTotal)"
        let polling = ReplyBusyPoller.processStatistics
        report.details["busy_poll_replies"] = "\(polling.endedByReadiness)"
        report.details["busy_poll_budget_spent"] = "\(polling.endedByBudget)"
        return report
    }
}
