import BagbotIPC

extension IPCMethodRegistry {
    /// What every daemon tells the gateway about its process: its recent log lines (`logs.recent`, for
    /// `GET /api/logs`) and its metrics (`metrics.scrape`, for `GET /metrics`).
    public func registerProcessReports() {
        RecentLogs.shared.register(on: self)
        ProcessMetrics.register(on: self)
    }
}
