#if canImport(Glibc)
import Glibc
#endif

/// Writes to file descriptor 2 with one write(2) per line, so lines from several threads never interleave
/// (and without touching C's shared `stderr` FILE, which Swift 6 rightly calls unsafe).
public enum StandardError {
    public static func write(_ text: String) {
        UnbufferedOutput.write(text, to: 2)
    }
}

/// Unbuffered writes to standard output: what a command prints appears at once and in order with its
/// children's output, also when piped to a file.
public enum StandardOutput {
    public static func print(_ line: String) {
        UnbufferedOutput.write(line + "\n", to: 1)
    }
}

enum UnbufferedOutput {
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }
}
