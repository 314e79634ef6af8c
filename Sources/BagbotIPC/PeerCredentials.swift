#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Mirror of Linux's `struct ucred` (pid, uid, gid), which Glibc only exposes to C under `_GNU_SOURCE`
/// and so is not imported into Swift. Layout: three 32-bit fields, no padding.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// Reads `SO_PEERCRED` from a connected Unix-domain channel.
    public static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(IPCError(.internal, "channel has no socket options"))
        }
        return provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
        )
    }

    /// Reads `SO_PEERCRED` from a connected Unix-domain socket descriptor; nil if the system will not say.
    public static func of(descriptor: CInt) -> PeerCredentials? {
        var credentials = PeerCredentials(pid: 0, uid: 0, gid: 0)
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
              length == MemoryLayout<PeerCredentials>.size else { return nil }
        return credentials
    }
}

/// Who may talk to a daemon: root, the daemon's own user, and members of the configured group.
public struct PeerPolicy: Sendable {
    public var ownUID: UInt32
    public var allowedGID: UInt32?

    public init(ownUID: UInt32 = getuid(), allowedGID: UInt32?) {
        self.ownUID = ownUID
        self.allowedGID = allowedGID
    }

    /// Resolves a group name to its gid; nil name means "no group beyond root and self".
    public static func forGroup(named name: String?) throws -> PeerPolicy {
        guard let name, !name.isEmpty else { return PeerPolicy(allowedGID: nil) }
        guard let group = getgrnam(name) else {
            throw IPCError(.badRequest, "socket group '\(name)' does not exist")
        }
        return PeerPolicy(allowedGID: group.pointee.gr_gid)
    }

    public func allows(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == ownUID { return true }
        guard let allowedGID else { return false }
        if peer.gid == allowedGID { return true }
        // SO_PEERCRED carries only the primary gid, so a member by supplementary group is found through
        // the account database.
        return Self.supplementaryGroups(ofUID: peer.uid, primaryGID: peer.gid).contains(allowedGID)
    }

    static func supplementaryGroups(ofUID uid: UInt32, primaryGID: UInt32) -> [UInt32] {
        guard let passwd = getpwuid(uid), let name = passwd.pointee.pw_name else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primaryGID, &groups, &count) == -1 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primaryGID, &groups, &count) != -1 else { return [] }
        }
        return Array(groups.prefix(Int(count)))
    }
}
