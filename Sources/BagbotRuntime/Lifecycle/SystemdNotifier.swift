import CSystemd
import Foundation

/// sd_notify through libsystemd. Every call is a no-op when NOTIFY_SOCKET is unset (not under systemd).
public struct SystemdNotifier: Sendable {
    public init() {}

    public var isActive: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    public func ready(status: String) {
        send("READY=1\nSTATUS=\(Self.oneLine(status))\nMAINPID=\(getpid())")
    }

    public func status(_ status: String) {
        send("STATUS=\(Self.oneLine(status))")
    }

    public func watchdog(status: String) {
        send("WATCHDOG=1\nSTATUS=\(Self.oneLine(status))")
    }

    public func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// The watchdog interval systemd expects pings within (`WatchdogSec=`), or nil when it is off.
    public func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }

    private func send(_ state: String) {
        guard isActive else { return }
        _ = sd_notify(0, state)
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
