import Foundation
import Logging

/// Log lines kept in memory, for tests of what the server logs ("message key=value …", level first).
public final class CapturedLog: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var kept: [String] = []

    public init() {}

    public var lines: [String] { lock.withLock { kept } }

    public var logger: Logger {
        Logger(label: "bagbot.tests.captured") { _ in CapturingHandler(log: self) }
    }

    fileprivate func append(_ line: String) { lock.withLock { kept.append(line) } }

    private struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            var merged = metadata
            if let explicit { merged.merge(explicit) { $1 } }
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(level) \(message) \(fields)")
        }
    }
}
