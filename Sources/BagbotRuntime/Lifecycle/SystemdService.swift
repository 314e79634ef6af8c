import Logging
import ServiceLifecycle

/// The daemon's side of systemd: READY=1 once the daemon says it can serve, then WATCHDOG=1 at a third of
/// `WatchdogSec=` only while the daemon reports itself healthy (a hung or sick process sends nothing, so
/// systemd kills and restarts it), with a fresh STATUS= each time; STOPPING=1 when the shutdown begins.
/// It runs last in the group, so it is the first to hear of the shutdown.
struct SystemdService: Service {
    let daemon: any BagbotDaemon
    let readiness: DaemonReadiness
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let ready = (try? await cancelWhenGracefulShutdown { await readiness.wait() }) ?? false
        if ready && !Task.isShuttingDownGracefully {
            let status = await daemon.statusLine()
            notifier.ready(status: status)
            logger.info("ready", metadata: ["status": "\(status)"])
            await watchdog()
        }
        logger.info("shutting down")
        notifier.stopping(status: "shutting down")
    }

    private func watchdog() async {
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
