#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import BagbotDomain

/// swift-log set-up: one label per component; under systemd each line starts with a `<N>` syslog priority
/// that journald turns into the entry's priority (so `journalctl -p warning` works).
public enum LogSetup {
    public enum Format: Sendable { case journal, plain }

    public static func level(named name: String) -> Logger.Level? {
        Logger.Level(rawValue: name.lowercased())
    }

    public static func format(named name: String) -> Format {
        switch name {
        case "journal": return .journal
        case "plain": return .plain
        default: return ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil ? .journal : .plain
        }
    }

    /// Bootstraps the logging system once per process. Lines are written by `LogWriter`'s thread; whatever is
    /// still queued when the process calls `exit` is written first (for at most two seconds).
    public static func bootstrap(level: Logger.Level, format: Format) {
        LogWriter.shared.configure(format: format)
        atexit { LogWriter.shared.flush() }
        LoggingSystem.bootstrap({ label, provider in
            BagbotLogHandler(label: label, format: format, logLevel: level, metadataProvider: provider)
        }, metadataProvider: requestIdProvider)
    }

    /// Adds `request_id` to every line written while a task works on a trade (`RequestId.current`).
    public static let requestIdProvider = Logger.MetadataProvider {
        RequestId.current.map { ["request_id": "\($0)"] } ?? [:]
    }
}

public struct BagbotLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogSetup.Format

    public init(label: String, format: LogSetup.Format, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        // The logger's own, then the task's (`request_id`), then the line's: the more specific wins.
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let explicit { merged.merge(explicit) { $1 } }
        // The line is put together on the log writer's thread, not the caller's (routerd's order path logs every
        // order before it answers); its time is the call's. Metadata values are read there too: BAGBOT logs strings
        // (no `.stringConvertible` of something that could change meanwhile).
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (label, format, fields, time) = (label, format, merged, now)
        LogWriter.shared.enqueue { Self.render(level: level, label: label, text: Self.text(message, fields), format: format, at: time) }
        RecentLogs.shared.append(LogLine(time: Date(), level: level.rawValue, component: label, message: "\(message)",
                                         metadata: merged.mapValues { "\($0)" }))
    }

    /// The message and its metadata as a line shows them: `key=value` by key, quoted where needed.
    static func text(_ message: Logger.Message, _ metadata: Logger.Metadata) -> String {
        let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }.joined(separator: " ")
        return fields.isEmpty ? "\(message)" : "\(message) \(fields)"
    }

    /// One line as it goes to standard error; `at`: its time (now when not given).
    static func render(level: Logger.Level, label: String, text: String, format: LogSetup.Format, at time: timespec? = nil) -> String {
        switch format {
        case .journal:
            return "<\(syslogPriority(level))>\(label): \(text)\n"
        case .plain:
            var now = time ?? timespec()
            if time == nil { clock_gettime(CLOCK_REALTIME, &now) }
            return "\(timestamp(seconds: now.tv_sec, milliseconds: now.tv_nsec / 1_000_000)) \(paddedName(level)) \(label): \(text)\n"
        }
    }

    /// The level's name upper-cased and padded to 8 characters, as the plain format writes it.
    static func paddedName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE   "
        case .debug: "DEBUG   "
        case .info: "INFO    "
        case .notice: "NOTICE  "
        case .warning: "WARNING "
        case .error: "ERROR   "
        case .critical: "CRITICAL"
        }
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    /// `2026-12-05T23:09:40.123Z`, UTC, to the millisecond. Written digit by digit: `String(format:)` and NSString's
    /// padding were a third of a log line's cost, on the thread that logs (routerd's order path logs every order).
    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var tm = tm()
        var seconds = seconds
        gmtime_r(&seconds, &tm)
        let year = Int(tm.tm_year) + 1900
        guard (0...9_999).contains(year), (0...999).contains(milliseconds) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                          milliseconds)
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    index += 1
                    divisor /= 10
                }
            }
            func put(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            put(year, width: 4); put("-"); put(Int(tm.tm_mon) + 1, width: 2); put("-"); put(Int(tm.tm_mday), width: 2); put("T")
            put(Int(tm.tm_hour), width: 2); put(":"); put(Int(tm.tm_min), width: 2); put(":"); put(Int(tm.tm_sec), width: 2); put(".")
            put(milliseconds, width: 3); put("Z")
            return index
        }
    }
}
