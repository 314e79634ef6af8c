extension HealthReport {
    /// This report with the facts every daemon process reports about itself: `dropped_log_lines`, the log
    /// lines lost because standard error was not read (see `LogWriter`), so an operator sees the loss in
    /// `health` and `/healthz` even when the log itself is what was lost.
    public func withProcessDetails() -> HealthReport {
        var report = self
        report.details["dropped_log_lines"] = "\(LogWriter.shared.droppedTotal)"
        return report
    }
}
