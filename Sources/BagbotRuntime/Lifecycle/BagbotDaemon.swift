import Logging
import ServiceLifecycle

/// What each daemon's library provides; `DaemonRunner` does the lifecycle around it.
///
/// A daemon is a group of swift-service-lifecycle services: `services` run in one `ServiceGroup`, started in
/// order and shut down in reverse through `gracefulShutdown()`. One of them calls `context.readiness.ready()`
/// once the daemon can serve (socket bound, storage open); the runner then tells systemd READY=1.
public protocol BagbotDaemon: Sendable {
    /// The name the daemon logs and is reached under ("routerd").
    static var serviceName: String { get }
    /// The configuration sections this daemon reads, besides `paths`, `ipc` and `log`.
    static var configSections: [any ConfigSection.Type] { get }

    init(context: DaemonContext) throws

    /// The daemon's services, in start order.
    var services: [any Service] { get }
    /// One line for `systemctl status` (peers, ticks/s, orders today…).
    func statusLine() async -> String
    /// False when the daemon cannot do its work; the watchdog then stops pinging systemd.
    func isHealthy() async -> Bool
}

/// What a daemon is made from: its configuration, logging, and the readiness signal it gives.
public struct DaemonContext: Sendable {
    public let service: String
    public let config: BagbotConfig
    public let logger: Logger
    public let readiness: DaemonReadiness

    public init(service: String, config: BagbotConfig, logger: Logger, readiness: DaemonReadiness = DaemonReadiness()) {
        self.service = service
        self.config = config
        self.logger = logger
        self.readiness = readiness
    }

    public func logger(_ component: String) -> Logger {
        var logger = Logger(label: "\(service).\(component)")
        logger.logLevel = self.logger.logLevel
        return logger
    }
}
