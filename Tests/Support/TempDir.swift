#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Shared by every test target.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory from mkdtemp under /tmp (short enough for the 107-byte Unix socket path limit),
/// removed when the test lets go of it or calls `remove()`.
public final class TempDir: Sendable {
    public let path: String

    public init(mode: mode_t = 0o700) throws {
        // mkdtemp replaces the trailing six X's of its template.
        var template = Array(("/tmp/bb-" + String(repeating: "X", count: 6)).utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: result)
        }
        guard let created else { throw TestFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = created
        guard chmod(path, mode) == 0 else { throw TestFailure("chmod \(path) failed") }
    }

    public var socketPath: String { path + "/t.sock" }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    public func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
