#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with what was attempted and errno's text.
public struct SystemCallError: Error, CustomStringConvertible {
    public let description: String

    /// Reads errno now: create it right after the failing call.
    public init(_ attempted: String) {
        description = "\(attempted): \(String(cString: strerror(errno)))"
    }
}
