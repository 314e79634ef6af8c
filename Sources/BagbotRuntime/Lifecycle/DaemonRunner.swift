#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle

public enum DaemonRunner {
    /// Loads configuration (exit 2 with file/key/reason on error; `--check-config` stops there), sets up
    /// logging, and runs the daemon's services and the systemd service in one `ServiceGroup` that shuts
    /// down gracefully on SIGTERM/SIGINT. Exits 1 when the daemon cannot start or a service fails.
    public static func run<Daemon: BagbotDaemon>(_ type: Daemon.Type, options: CommonOptions) async -> Never {
        let service = Daemon.serviceName
        let config: BagbotConfig
        do {
            config = try options.loadConfiguration(sections: Daemon.configSections)
        } catch {
            StandardError.write("\(service): \(error)\n")
            exit(2)
        }
        if options.checkConfig {
            StandardOutput.print("\(service): \(options.config ?? "(defaults)") is valid for \(service)")
            exit(0)
        }
        let level = LogSetup.level(named: config.log.level) ?? .info
        LogSetup.bootstrap(level: level, format: LogSetup.format(named: config.log.format))
        ProcessMetrics.bootstrap(daemon: service)
        var logger = Logger(label: service)
        logger.logLevel = level
        let notifier = SystemdNotifier()
        let readiness = DaemonReadiness()

        let daemon: Daemon
        do {
            daemon = try Daemon(context: DaemonContext(service: service, config: config, logger: logger, readiness: readiness))
        } catch {
            failedToStart(error, logger: logger, notifier: notifier)
        }
        let services = daemon.services.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }
        let systemd = SystemdService(daemon: daemon, readiness: readiness, notifier: notifier, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: services + [.init(service: systemd)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            // A service that failed before the daemon was ready means it could not start.
            if !readiness.isReady { failedToStart(error, logger: logger, notifier: notifier) }
            logger.error("service group ended with an error", metadata: ["error": "\(error)"])
            exit(1)
        }
        logger.info("stopped cleanly")
        exit(0)
    }

    private static func failedToStart(_ error: Error, logger: Logger, notifier: SystemdNotifier) -> Never {
        logger.critical("cannot start", metadata: ["error": "\(error)"])
        notifier.status("failed to start: \(error)")
        exit(1)
    }
}
