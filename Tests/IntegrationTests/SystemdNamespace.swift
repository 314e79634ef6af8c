#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotTestSupport

/// A real systemd booted in its own PID, mount, UTS, IPC and network namespace, by the recipe in
/// DESIGN §10: private tmpfs over /tmp, /var/tmp, /run and /var/log/journal, systemd-tmpfiles masked
/// (otherwise it wipes the machine's real /tmp), and overlays over /etc, /usr/local, /var/lib and /opt so
/// an install inside writes nothing real. `poweroff()` ends it.
final class SystemdNamespace: @unchecked Sendable {
    let harness: String
    private let unshare: ChildProcess
    private(set) var systemdPID: Int32 = 0

    /// Root, systemd and util-linux's unshare/nsenter are needed; CI has them.
    static var isSupported: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")
    }

    /// The paths that get a fresh tmpfs inside the namespace.
    static let privatePaths = ["/tmp", "/var/tmp", "/run", "/var/log/journal"]

    /// `keepVisible`: directories the namespace must still see at the same path although they live under
    /// a private path (a checkout under /tmp, its binaries, ../shared/data, and `directory` itself): they are
    /// bind-mounted aside before the tmpfs mounts and back in place after them.
    init(directory: String, keepVisible: [String] = []) throws {
        harness = directory
        let underPrivate = Set(keepVisible + [directory]).filter { path in
            Self.privatePaths.contains { path.hasPrefix($0 + "/") }
        }
        // A path inside another kept one comes along with it.
        let kept = underPrivate.filter { path in !underPrivate.contains { path.hasPrefix($0 + "/") } }.sorted()
        try FileManager.default.createDirectory(atPath: harness, withIntermediateDirectories: true)
        let script = harness + "/boot.sh"
        try """
            #!/bin/bash
            set -e
            mount --make-rprivate /
            keep=(\(kept.map { "'\($0)'" }.joined(separator: " ")))
            mount -t tmpfs tmpfs /mnt
            for i in "${!keep[@]}"; do mkdir -p "/mnt/$i"; mount --rbind "${keep[$i]}" "/mnt/$i"; done
            for d in \(Self.privatePaths.joined(separator: " ")); do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
            for i in "${!keep[@]}"; do mkdir -p "${keep[$i]}"; mount --rbind "/mnt/$i" "${keep[$i]}"; done
            umount -l /mnt
            layers=\(harness)/layers
            mkdir -p "$layers"; mount -t tmpfs tmpfs "$layers"
            for x in /etc /usr/local /var/lib /opt; do
              mkdir -p "$layers$x/up" "$layers$x/work"
              mount -t overlay overlay -o "lowerdir=$x,upperdir=$layers$x/up,workdir=$layers$x/work" "$x"
            done
            mkdir -p /run/systemd/system
            for u in systemd-tmpfiles-setup.service systemd-tmpfiles-clean.timer systemd-tmpfiles-setup-dev.service; do
              ln -sf /dev/null "/run/systemd/system/$u"
            done
            ip link set lo up 2>/dev/null || true
            exec /lib/systemd/systemd --system --unit=multi-user.target
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        unshare = ChildProcess()
        // Not through setsid(1): ChildProcess already starts the child as a group leader, so setsid would fork
        // and the namespace would no longer descend from the pid kept here.
        unshare.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // The script is read by bash, not executed itself: a fork elsewhere in the test process can hold the
        // just-written file open for a moment, and executing it then fails with "Text file busy".
        unshare.arguments = ["--kill-child", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--mount-proc", "/bin/bash", script]
        let log = harness + "/boot.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        unshare.standardOutput = handle
        unshare.standardError = handle
        unshare.standardInput = FileHandle.nullDevice
        try unshare.run()
    }

    /// Waits for the namespace's PID 1 to be systemd and for boot to finish.
    func waitUntilBooted() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if systemdPID == 0, let pid = Self.descendant(of: unshare.processIdentifier, named: "systemd") {
                systemdPID = pid
            }
            if systemdPID != 0 {
                // Asked once a second, not every 200 ms: each spawn was a chance of Foundation's crash (#5472,
                // docs/reliability.md); and not with `--wait`, which would hold one of the test pool's two threads.
                let state = run("systemctl is-system-running").output.trimmingCharacters(in: .whitespacesAndNewlines)
                if state == "running" || state == "degraded" { return }
            }
            try await Task.sleep(for: .seconds(1))
        }
        throw SystemdTestFailure("systemd did not boot: \((try? String(contentsOfFile: harness + "/boot.log", encoding: .utf8)) ?? "")")
    }

    /// Runs a shell command inside the namespace (as root); returns its status and output. Every command
    /// is bounded (`timeout`), so a hung one fails the test instead of hanging it.
    @discardableResult
    func run(_ command: String, timeout seconds: Int = 120) -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["-t", "\(systemdPID)", "-m", "-p", "-u", "-i", "-n", "/usr/bin/timeout", "\(seconds)", "/bin/bash", "-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func property(_ unit: String, _ name: String) -> String {
        run("systemctl show -p \(name) --value \(unit)").output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func poweroff() async {
        guard systemdPID != 0 else {
            unshare.terminate()
            return
        }
        run("systemctl poweroff --no-block")
        let deadline = ContinuousClock.now + .seconds(30)
        while unshare.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        if unshare.isRunning { kill(systemdPID, SIGKILL) }
    }

    static func descendant(of parent: Int32, named name: String) -> Int32? {
        var queue = [parent]
        while let pid = queue.popLast() {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) {
                let comm = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                if comm == name { return child }
                queue.append(child)
            }
        }
        return nil
    }
}

struct SystemdTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
