#if canImport(Glibc)
import Glibc
#endif
import BagbotTestSupport
import Foundation
import Testing
@testable import SupervisorCore

/// `bagbot up`'s supervisor over real child processes (shell one-liners standing in for the daemons).
struct SupervisorTests {
    func shell(_ name: String, _ script: String) -> Supervisor.Child {
        Supervisor.Child(name: name, executable: "/bin/sh", arguments: ["-c", script])
    }

    func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test("a child that crashes is started again after the delay; the others keep running")
    func restartsACrashedChild() async throws {
        let supervisor = Supervisor(children: [shell("steady", "exec sleep 60"), shell("crashing", "sleep 0.05; exit 3")],
                                    logger: quietLogger, restartDelay: .milliseconds(50))
        try await supervisor.start()
        let steady = try #require(supervisor.pid(of: "steady"))
        try await waitUntil("two restarts") { supervisor.restartCount(of: "crashing") >= 2 }
        #expect(supervisor.pid(of: "steady") == steady && alive(steady), "the steady child was left alone")
        await supervisor.stop()
        #expect(!alive(steady))
        let restarts = supervisor.restartCount(of: "crashing")
        try await Task.sleep(for: .milliseconds(200))
        #expect(supervisor.restartCount(of: "crashing") == restarts, "nothing restarts once stopped")
    }

    @Test("a child that exits cleanly is not started again")
    func cleanExitIsFinal() async throws {
        let supervisor = Supervisor(children: [shell("done", "exit 0")], logger: quietLogger, restartDelay: .milliseconds(10))
        try await supervisor.start()
        try await waitUntil("the child to end") { supervisor.pid(of: "done") == nil }
        try await Task.sleep(for: .milliseconds(100))
        #expect(supervisor.restartCount(of: "done") == 0)
        await supervisor.stop()
    }

    @Test("stop sends SIGTERM to each child and waits for all; one that ignores it is killed after the timeout")
    func stopTerminatesThenKills() async throws {
        let supervisor = Supervisor(children: [shell("polite", "exec sleep 60"), shell("stubborn", "trap '' TERM; while :; do sleep 0.05; done")],
                                    logger: quietLogger)
        try await supervisor.start()
        let polite = try #require(supervisor.pid(of: "polite"))
        let stubborn = try #require(supervisor.pid(of: "stubborn"))
        // The shell sets its trap before it loops: give it the moment to.
        try await Task.sleep(for: .milliseconds(200))
        await supervisor.stop(timeout: .milliseconds(500))
        #expect(!alive(polite) && !alive(stubborn))
        #expect(supervisor.pid(of: "polite") == nil && supervisor.pid(of: "stubborn") == nil)
    }

    @Test("a child whose binary is missing fails the start, and the children started before it are stopped")
    func missingBinary() async throws {
        // A duration no other process runs with: the first child is found by it in /proc.
        let marker = "6\(Int.random(in: 10_000...99_999)).5"
        let supervisor = Supervisor(children: [shell("first", "exec sleep \(marker)"),
                                               Supervisor.Child(name: "ghost", executable: "/nonexistent/routerd", arguments: [])],
                                    logger: quietLogger)
        await #expect(throws: (any Error).self) { try await supervisor.start() }
        let running = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { entry in
            guard Int32(entry) != nil, let line = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: line, as: UTF8.self).contains(marker)
        }
        #expect(running.isEmpty, "not left running where no Ctrl-C reaches it: \(running)")
        #expect(supervisor.pid(of: "first") == nil)
    }

    @Test("each child starts with default signal dispositions, /dev/null as its input and a session of its own")
    func childEnvironment() async throws {
        let dir = try TempDir()
        let report = dir.file("report")
        // SigIgn from /proc: no signal ignored, whatever the supervisor's process ignores (an ignored signal would
        // survive the exec; here SIGUSR2, which nothing else in the tests uses). The session: /proc's sixth field.
        let script = "grep SigIgn /proc/self/status > \(report); readlink /proc/self/fd/0 >> \(report); "
            + "awk '{print $6}' /proc/$$/stat >> \(report); echo $$ >> \(report); exec sleep 60"
        signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, SIG_DFL) }
        let supervisor = Supervisor(children: [shell("probe", script)], logger: quietLogger)
        try await supervisor.start()
        try await waitUntil("the child's report") { ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n").count >= 4 }
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // Signals 1–31 (32 and 33 are glibc's own, for its threads).
        let ignored = try #require(UInt64(lines[0].split(separator: "\t").last ?? "", radix: 16), "\(lines[0])")
        #expect(ignored & 0x7fff_ffff == 0, "no standard signal ignored: \(lines[0])")
        #expect(lines[1] == "/dev/null")
        #expect(lines[2] == lines[3], "the child leads its own session: sid \(lines[2]), pid \(lines[3])")
        await supervisor.stop()
    }
}
