#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotTestSupport
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotStorage
import Testing

/// `bagbot up`: one directory, four children, a first admin token, restart on crash, clean stop.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BagbotUpTests {
    @Test("bagbot up runs the system, restarts a crashed daemon, and stops all four on SIGTERM")
    func upRunsRestartsAndStops() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let root = directory.path
        let port = try TestSystem.freePort()
        let up = try BagbotUpRun(root: root, port: port, ["--speed", "300"])
        let (process, output) = (up.process, up.output)
        // On a failure part-way, stop bagbot the way an operator would, so it stops its four children too.
        defer { up.stop() }

        // The first admin token is printed once; its plaintext is erased from admin.token once the gateway stored it.
        let tokenFile = root + "/sys/admin.token"
        var printed: String?
        try await poll("the admin token to be printed") {
            printed = up.printedAdminToken
            return printed != nil
        }
        let token = try #require(printed)
        #expect(APITokenFormat.looksValid(token))
        try await poll("the token's plaintext to be erased", timeout: 90) {
            ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "?").isEmpty
        }
        #expect((try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int) == 0o600)
        let me = try await TestSystem.httpGet(port: port, path: "/api/subscription/me", token: token)
        #expect(me.status == 200, "the erased token still works: its hash is stored")
        #expect(FileManager.default.fileExists(atPath: root + "/sys/bagbot.yaml"))

        try await poll("orders in sys/state/bagbot.db", timeout: 90) {
            guard let db = try? TestSystemDatabase(path: root + "/sys/state/bagbot.db") else { return false }
            return (try? db.count("SELECT COUNT(*) FROM orders")) ?? 0 >= 1
        }
        let log = try String(contentsOfFile: output, encoding: .utf8)
        #expect(log.components(separatedBy: token).count == 2, "the token is printed exactly once")
        #expect(log.contains("http://127.0.0.1:\(port)"))

        // A crashed daemon is restarted; the others keep their pids.
        let routerPID = try #require(childPID(named: "routerd", under: root))
        let mindsetPID = try #require(childPID(named: "mindsetd", under: root))
        kill(routerPID, SIGKILL)
        try await poll("routerd to be restarted") {
            guard let pid = childPID(named: "routerd", under: root) else { return false }
            return pid != routerPID
        }
        #expect(childPID(named: "mindsetd", under: root) == mindsetPID)
        try await poll("the restarted routerd to serve") {
            (try? await TestSystem.call(socket: root + "/sys/run/routerd.sock", service: "routerd", Methods.health, as: HealthReport.self)) != nil
        }

        kill(process.processIdentifier, SIGTERM)
        try await poll("bagbot up to exit", timeout: 30) { !process.isRunning }
        #expect(process.terminationStatus == 0)
        for name in ["mindsetd", "routerd", "arsenald", "gateway"] {
            #expect(childPID(named: name, under: root) == nil, "\(name) stopped")
        }
        let finalLog = try String(contentsOfFile: output, encoding: .utf8)
        #expect(finalLog.components(separatedBy: "stopped cleanly").count - 1 == 4, "all four daemons stopped cleanly")
    }

    @Test("--keep-admin-token keeps the first admin token's plaintext (0600) after the gateway stored it")
    func keepAdminToken() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let root = directory.path
        let port = try TestSystem.freePort()
        let up = try BagbotUpRun(root: root, port: port, ["--keep-admin-token"])
        let (process, output) = (up.process, up.output)
        defer { up.stop() }
        let tokenFile = root + "/sys/admin.token"
        try await poll("the kept token to be announced") {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("First admin token (shown once; also in \(tokenFile), mode 0600)")
        }
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(APITokenFormat.looksValid(token))
        try await poll("the gateway to accept it", timeout: 90) {
            (try? await TestSystem.httpGet(port: port, path: "/api/subscription/me", token: token))?.status == 200
        }
        // Without the flag the file is emptied within half a second of this (the erasure polls every 500 ms).
        try await Task.sleep(for: .seconds(2))
        #expect((try String(contentsOfFile: tokenFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines) == token)
        #expect((try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int) == 0o600)
        kill(process.processIdentifier, SIGTERM)
        try await poll("bagbot up to exit", timeout: 30) { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }

    private func poll(_ what: String, timeout: Double = 60, _ condition: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    /// The pid of a daemon started by this test's `bagbot up` (found by its --config path).
    private func childPID(named name: String, under root: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let first = arguments.first, (first as NSString).lastPathComponent == name,
                  arguments.contains(where: { $0.hasPrefix(root) }) else { continue }
            if let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), stat.contains(") Z ") { continue }
            return pid
        }
        return nil
    }
}

import GRDB

struct TestSystemDatabase {
    let queue: DatabaseQueue
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw SystemCallError("no database yet") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }
    func count(_ sql: String) throws -> Int { try queue.read { try Int.fetchOne($0, sql: sql) ?? 0 } }
}
