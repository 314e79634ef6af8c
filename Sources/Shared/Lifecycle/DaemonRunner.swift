#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle

/// What each daemon's library provides; the runner does the lifecycle around it.
public protocol BagbotDaemon: Sendable {
    /// Binds sockets, opens storage, starts background work. After it returns the daemon can serve,
    /// and the runner tells systemd READY=1.
    func start() async throws
    /// Stops accepting, finishes in-flight work, flushes state.
    func stop() async
    /// One line for `systemctl status` (peers, ticks/s, orders today…).
    func statusLine() async -> String
    /// False when the daemon cannot do its work; the watchdog then stops pinging systemd.
    func isHealthy() async -> Bool
}

public struct DaemonContext: Sendable {
    public let service: String
    public let config: BagbotConfig
    public let logger: Logger

    public func logger(_ component: String) -> Logger {
        var logger = Logger(label: "\(service).\(component)")
        logger.logLevel = self.logger.logLevel
        return logger
    }
}

public enum DaemonRunner {
    /// Loads configuration (exit 2 with file/key/reason on error), sets up logging, starts the daemon,
    /// signals READY, runs the watchdog, and shuts down gracefully on SIGTERM/SIGINT.
    public static func run(
        service: String, options: CommonOptions, makeDaemon: (DaemonContext) throws -> BagbotDaemon
    ) async -> Never {
        let config: BagbotConfig
        do {
            config = try options.loadConfiguration()
        } catch {
            StandardError.write("\(service): \(error)\n")
            exit(2)
        }
        let level = LogSetup.level(named: config.log.level) ?? .info
        LogSetup.bootstrap(level: level, format: LogSetup.format(named: config.log.format))
        var logger = Logger(label: service)
        logger.logLevel = level
        let notifier = SystemdNotifier()
        let context = DaemonContext(service: service, config: config, logger: logger)

        let daemon: BagbotDaemon
        do {
            daemon = try makeDaemon(context)
            try await daemon.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            notifier.status("failed to start: \(error)")
            exit(1)
        }
        let status = await daemon.statusLine()
        notifier.ready(status: status)
        logger.info("ready", metadata: ["status": "\(status)"])

        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: LifecycleService(daemon: daemon, notifier: notifier, logger: logger)),
                .init(service: WatchdogService(daemon: daemon, notifier: notifier, logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("service group ended with an error", metadata: ["error": "\(error)"])
            exit(1)
        }
        logger.info("stopped cleanly")
        exit(0)
    }
}

/// Waits for the graceful-shutdown signal, then stops the daemon (stop accepting, drain, flush).
struct LifecycleService: Service {
    let daemon: BagbotDaemon
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down")
        notifier.stopping(status: "shutting down")
        await daemon.stop()
    }
}

/// Pings systemd's watchdog only while the daemon reports itself healthy, and refreshes STATUS=.
/// A hung or stopped process sends nothing, so systemd kills and restarts it.
struct WatchdogService: Service {
    let daemon: BagbotDaemon
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let interval = notifier.watchdogInterval().map { $0 / 3 } ?? .seconds(5)
        var wasHealthy = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let healthy = await daemon.isHealthy()
            let status = await daemon.statusLine()
            if healthy {
                notifier.watchdog(status: status)
            } else {
                notifier.status("unhealthy: \(status)")
            }
            if healthy != wasHealthy {
                if healthy { logger.notice("healthy again") } else { logger.error("unhealthy; watchdog pings withheld", metadata: ["status": "\(status)"]) }
                wasHealthy = healthy
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
