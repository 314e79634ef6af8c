import Glibc

/// Opens a connected, non-blocking Unix stream socket for an `IPCClient` connection.
///
/// The client connects the socket itself and hands it to NIO (`ClientBootstrap.withConnectedSocket`)
/// instead of letting `ClientBootstrap.connect` do it, because `ReplyBusyPoller` needs the descriptor and
/// NIO does not expose a channel's descriptor.
enum UnixSocketConnector {
    /// Returns the connected descriptor; the caller owns it. Throws `IPCError(.unavailable)` naming the path
    /// and the system's reason (no such socket, nobody listening, listen backlog full, permission denied).
    static func connect(path: String) throws -> CInt {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw IPCError(.badRequest, "socket path \(path) is empty, contains NUL or is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: pathBytes)
            sunPath[pathBytes.count] = 0
        }

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket()", path: path) }
        // On a Unix socket a non-blocking connect either completes at once or fails at once (EAGAIN when the
        // listener's backlog is full); it never returns EINPROGRESS, so there is nothing to wait for here.
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let error = failure("connect()", path: path)
            close(fd)
            throw error
        }
        return fd
    }

    private static func failure(_ call: String, path: String) -> IPCError {
        let code = errno
        return IPCError(.unavailable, "\(call) to \(path) failed: \(String(cString: strerror(code))) (errno \(code))")
    }
}
