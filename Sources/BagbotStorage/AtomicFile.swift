#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotDomain

/// A state file that could not be read; it has been moved aside to `movedTo` for inspection.
public struct CorruptStateFile: Error, CustomStringConvertible {
    public let path: String
    public let movedTo: String
    public let reason: String
    public var description: String { "state file \(path) is corrupt (\(reason)); moved to \(movedTo)" }
}

/// JSON state files written so a crash leaves either the old or the new file, never a torn one:
/// temp file in the same directory, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw posixError("open \(temporary)") }
        var failure: Error?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = posixError("write \(temporary)")
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = posixError("fsync \(temporary)") }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let error = posixError("rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    public static func writeJSON<Value: Encodable>(_ value: Value, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Fractional seconds: a cooldown reloaded after a restart must end when it would have.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.timestampFormat))
        }
        try write(try encoder.encode(value), to: path)
    }

    /// Reads a JSON state file: nil when it does not exist; a file that does not decode is moved aside
    /// (unless it is another daemon's file, `setAside: false`) and reported as `CorruptStateFile`, so the
    /// caller decides on a safe state instead of defaults.
    public static func readJSON<Value: Decodable>(_ type: Value.Type, from path: String, setAside: Bool = true) throws -> Value? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        // State files written before money was exact hold JSON numbers; they are read by their digits.
        decoder.userInfo[ExactDecimal.acceptsLegacyNumbers] = true
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Self.timestampFormat.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 timestamp: \(text)")
        }
        do {
            return try decoder.decode(type, from: data)
        } catch {
            let stamp = Int(Date().timeIntervalSince1970)
            let aside = setAside ? "\(path).corrupt-\(stamp)" : path
            if setAside { _ = rename(path, aside) }
            let reason = (error as? DecodingError)?.readableDescription ?? "\(error)"
            throw CorruptStateFile(path: path, movedTo: aside, reason: reason)
        }
    }

    static let timestampFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static func posixError(_ what: String) -> Error {
        SystemCallError(what)
    }
}
