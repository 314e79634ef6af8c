import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the tests start other programs with, in place of Foundation's `Process`: `Process.run()` on Linux can crash
/// the process that spawns (swift-corelibs-foundation #5472, not fixed in Swift 6.3.1; docs/reliability.md), and the
/// suite spawns hundreds. The same names as `Process` for what the tests use, over `posix_spawn`: the child gets an
/// empty signal mask and default dispositions (a test thread's blocked signals are not inherited), no descriptor
/// but its three standard ones (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34), and a session of its own,
/// as `Process` gives it. The child is reaped by `isRunning` or `waitUntilExit`, by its PID only.
public final class ChildProcess: @unchecked Sendable {
    public var executableURL: URL?
    public var arguments: [String] = []
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `FileHandle` or a `Pipe` (its writing end is given to the child and closed here); nil: this process's own.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var status: Int32?

    public init() {}

    public var processIdentifier: Int32 { lock.withLock { pid } }

    /// The exit code, or the number of the signal that ended it.
    public var terminationStatus: Int32 {
        lock.withLock {
            guard let status else { return -1 }
            return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
        }
    }

    public var isRunning: Bool {
        lock.withLock {
            guard pid > 0, status == nil else { return false }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid { status = raw }
            return reaped == 0
        }
    }

    public func waitUntilExit() {
        let target = lock.withLock { status == nil ? pid : 0 }
        guard target > 0 else { return }
        var raw: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(target, &raw, 0) } while reaped == -1 && errno == EINTR
        lock.withLock { if status == nil, reaped == target { status = raw } }
    }

    public func terminate() {
        let target = processIdentifier
        if target > 0, isRunning { kill(target, SIGTERM) }
    }

    public func run() throws {
        guard let path = executableURL?.path else { throw SpawnFailure("no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        for (target, value) in [(Int32(0), standardInput), (1, standardOutput), (2, standardError)] {
            guard let value else { continue }
            var fd: Int32
            if let pipe = value as? Pipe {
                fd = target == 0 ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
            } else if let handle = value as? FileHandle {
                fd = handle.fileDescriptor
            } else {
                throw SpawnFailure("standard stream \(target) is neither a FileHandle nor a Pipe")
            }
            if fd < 0 {
                // FileHandle.nullDevice has no descriptor of its own.
                fd = open("/dev/null", O_RDWR | O_CLOEXEC)
                opened.append(fd)
            }
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
        guard Self.closeFrom(&actions, 3) == 0 else { throw SpawnFailure("posix_spawn_file_actions_addclosefrom_np failed") }
        if let directory = currentDirectoryURL?.path {
            guard Self.changeDirectory(&actions, directory) == 0 else { throw SpawnFailure("cannot change to \(directory)") }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | Self.setSession)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = (self.environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in environment { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, environment)
        guard result == 0 else { throw SpawnFailure("cannot start \(path): \(String(cString: strerror(result)))") }
        lock.withLock { pid = child }
        // The child holds its own copies now: the parent's writing end of an output pipe (and reading end of an
        // input pipe) must close, or reading to its end never ends.
        if let pipe = standardOutput as? Pipe { try? pipe.fileHandleForWriting.close() }
        if let pipe = standardError as? Pipe, (standardOutput as? Pipe) !== pipe { try? pipe.fileHandleForWriting.close() }
        if let pipe = standardInput as? Pipe { try? pipe.fileHandleForReading.close() }
    }

    /// glibc's POSIX_SPAWN_SETSID (spawn.h), not declared in Swift's Glibc module.
    private static let setSession: Int16 = 0x80

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc's GNU extensions, which Swift's Glibc module does not declare: found at run time.
    private static let closeFrom: CloseFrom = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np"), to: CloseFrom.self)
    private static let changeDirectory: ChangeDirectory = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np"),
                                                                       to: ChangeDirectory.self)
}

public struct SpawnFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
