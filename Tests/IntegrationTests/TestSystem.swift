#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Logging
import BagbotTestSupport
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import BagbotStorage

/// A whole BAGBOT under a temporary directory, with the real daemon binaries as child processes.
final class TestSystem: @unchecked Sendable {
    private let directory: TempDir
    var root: String { directory.path }
    let port: Int
    let configPath: String
    let tokenPath: String
    private var processes: [String: ChildProcess] = [:]
    private let lock = NSLock()

    static let daemons = ["mindsetd", "routerd", "arsenald", "gateway"]

    /// Where `swift test` put the binaries: beside the test bundle.
    static var binaries: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (exe as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.isExecutableFile(atPath: directory + "/routerd") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return (exe as NSString).deletingLastPathComponent
    }

    /// `../shared/data` beside the checkout; the tests fall back to the synthetic feed without it.
    static var sharedData: String? {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: data) ? data : nil
    }

    /// `files`: the tick files to replay, once (no loop); without, every file of `../shared/data`, looped.
    init(speed: String = "200", files: [String] = [], extraConfig: String = "") throws {
        directory = try TempDir()
        let root = directory.path
        port = try Self.freePort()
        configPath = root + "/bagbot.yaml"
        tokenPath = root + "/admin.token"
        try APITokenFormat.generate().write(toFile: tokenPath, atomically: true, encoding: .utf8)
        // A `gateway:` block in `extraConfig` joins the one below (a key may appear once in YAML).
        let (gateway, afterGateway) = Self.takeSection("gateway", from: extraConfig)
        var yaml = """
            paths:
              run_dir: \(root)/run
              state_dir: \(root)/state
            log:
              format: plain
            gateway:
              port: \(port)
              bootstrap_admin_token_file: \(tokenPath)

            """
        yaml += gateway
        yaml += """
            router:
              replay:
                speed: "\(speed)"
                loop: \(files.isEmpty)

            """
        if !files.isEmpty {
            yaml += "    files: [\(files.joined(separator: ", "))]\n"
        } else if let data = Self.sharedData {
            yaml += "    data_dir: \(data)\n"
        }
        // A `router:` block in `extraConfig` joins the section above (a key may appear once in YAML).
        let (router, extraConfig) = Self.takeSection("router", from: afterGateway)
        yaml += Self.withLowPaperFees(router)
        // The replay runs faster than real time, so mindsetd's check of times against its clock is opened up,
        // as `bagbot up --speed` does.
        let skew = "  max_clock_skew_seconds: 315360000\n"
        yaml += extraConfig.contains("mindset:\n") ? extraConfig.replacingOccurrences(of: "mindset:\n", with: "mindset:\n" + skew)
            : extraConfig + "mindset:\n" + skew
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// `router` (the lines of a `router:` block) with the paper venue's fee at 1 bp a side, unless set: these tests
    /// follow the trade path on the recorded files, which the default strategies rarely trade at the live venues'
    /// fees (the default, 10 bp for crypto: docs/configuration.md).
    static func withLowPaperFees(_ router: String) -> String {
        if router.contains("    fee_bps:") { return router }
        if router.contains("  paper:\n") { return router.replacingOccurrences(of: "  paper:\n", with: "  paper:\n    fee_bps: 1\n") }
        return router + "  paper:\n    fee_bps: 1\n"
    }

    /// The lines under `key:` at the top level of `config` (still indented), and the rest of `config`.
    static func takeSection(_ key: String, from config: String) -> (section: String, rest: String) {
        var section = "", rest = "", inside = false
        for line in config.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "\(key):" {
                inside = true
            } else if inside, line.hasPrefix(" ") {
                section += line + "\n"
            } else {
                inside = false
                rest += line + "\n"
            }
        }
        return (section, rest)
    }

    var adminToken: String { (try? String(contentsOfFile: tokenPath, encoding: .utf8)) ?? "" }

    func socket(_ service: String) -> String { root + "/run/\(service).sock" }

    func start(_ names: [String] = TestSystem.daemons) throws {
        for name in names { try start(name) }
    }

    /// Whether a daemon can be started with its state files read-only (root and util-linux's unshare; CI has both).
    static var canMountPrivately: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    /// Starts a daemon; with `readOnlyStateFiles` in a mount namespace of its own where its state files'
    /// directory is mounted read-only (a full or failing disk, which root, as CI runs, cannot fake with chmod).
    func start(_ name: String, readOnlyStateFiles: Bool = false) throws {
        let process = ChildProcess()
        let binary = Self.binaries + "/" + name
        if readOnlyStateFiles {
            let files = root + "/state/state"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            // unshare and sh exec: the process started is the daemon itself (its PID is the one stopped and killed).
            process.arguments = ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                 "mount --bind -o ro \"$1\" \"$1\" && exec \"$2\" --config \"$3\"", "sh", files, binary, configPath]
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--config", configPath]
        }
        let log = root + "/\(name).log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { processes[name] = process }
    }

    func pid(_ name: String) -> Int32? { lock.withLock { processes[name]?.processIdentifier } }

    /// Whether the daemon started last under `name` is still running.
    func isRunning(_ name: String) -> Bool { lock.withLock { processes[name]?.isRunning ?? false } }

    func signal(_ name: String, _ signal: Int32) {
        if let pid = pid(name) { kill(pid, signal) }
    }

    /// Sends SIGTERM and waits; returns the exit status.
    @discardableResult
    func stop(_ name: String, timeout: Duration = .seconds(20)) async -> Int32? {
        guard let process = lock.withLock({ processes[name] }) else { return nil }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    func killHard(_ name: String) async {
        guard let process = lock.withLock({ processes[name] }) else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func log(_ name: String) -> String { (try? String(contentsOfFile: root + "/\(name).log", encoding: .utf8)) ?? "" }

    /// Runs `body` against a fresh system and always stops its daemons afterwards, also when `body` throws
    /// (a `defer { Task { … } }` would leave them running after the test process exits).
    static func with<T>(speed: String = "200", files: [String] = [], extraConfig: String = "",
                        _ body: (TestSystem) async throws -> T) async throws -> T {
        let system = try TestSystem(speed: speed, files: files, extraConfig: extraConfig)
        do {
            let result = try await body(system)
            await system.shutdown()
            return result
        } catch {
            await system.shutdown()
            throw error
        }
    }

    func shutdown() async {
        for name in Self.daemons.reversed() { await stop(name) }
        directory.remove()
    }

    // MARK: observing

    /// One IPC call to a daemon, as an operator tool would make it.
    func call<Response: Decodable & Sendable>(_ service: String, _ method: String, as type: Response.Type) async throws -> Response {
        try await Self.call(socket: socket(service), service: service, method, as: type)
    }

    /// `timeout`: how long to wait for the answer (longer than the daemons' own `ipc.request_timeout_ms` to see
    /// what a daemon answers after one of its calls timed out).
    func call<Body: Encodable & Sendable, Response: Decodable & Sendable>(
        _ service: String, _ method: String, _ body: Body, as type: Response.Type, timeout: Duration = .seconds(5)
    ) async throws -> Response {
        try await Self.call(socket: socket(service), service: service, method, body: body, as: type, timeout: timeout)
    }

    static func call<Response: Decodable & Sendable>(socket: String, service: String, _ method: String, as type: Response.Type) async throws -> Response {
        try await call(socket: socket, service: service, method, body: EmptyBody(), as: type)
    }

    static func call<Body: Encodable & Sendable, Response: Decodable & Sendable>(
        socket: String, service: String, _ method: String, body: Body, as type: Response.Type, timeout: Duration = .seconds(5)
    ) async throws -> Response {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical
        let client = IPCClient(ownService: "tests", peerService: service,
                               configuration: IPCClientConfiguration(socketPath: socket, requestTimeout: timeout,
                                                                     initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100)),
                               logger: logger)
        client.start()
        do {
            let deadline = ContinuousClock.now + .seconds(10)
            while !client.isConnected && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let response: Response = try await client.call(method, body)
            await client.shutdown()
            return response
        } catch {
            await client.shutdown()
            throw error
        }
    }

    func health(_ service: String) async -> HealthReport? {
        try? await call(service, Methods.health, as: HealthReport.self)
    }

    /// Polls until `condition` holds; fails the test (by throwing) after `timeout`, saying what it waited for.
    func waitUntil(_ what: String, timeout: Duration = .seconds(90), every interval: Duration = .milliseconds(200),
                   _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: interval)
        }
        throw WaitTimeout(what: what, logs: Self.daemons.map { "--- \($0)\n" + String(log($0).suffix(3_000)) }.joined(separator: "\n"))
    }

    struct WaitTimeout: Error, CustomStringConvertible {
        let what: String
        let logs: String
        var description: String { "timed out waiting for \(what)\n\(logs)" }
    }

    func database() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: root + "/state/bagbot.db", configuration: configuration)
    }

    struct StoredOrder: Sendable {
        let clientOrderId: String
        let status: String
        let createdAt: Date
    }

    func orders() throws -> [StoredOrder] {
        guard FileManager.default.fileExists(atPath: root + "/state/bagbot.db") else { return [] }
        return try database().read { db in
            try Row.fetchAll(db, sql: "SELECT client_order_id, status, created_at FROM orders ORDER BY rowid").map {
                StoredOrder(clientOrderId: $0["client_order_id"], status: $0["status"], createdAt: $0["created_at"])
            }
        }
    }

    func count(_ sql: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: root + "/state/bagbot.db") else { return 0 }
        return try database().read { try Int.fetchOne($0, sql: sql) ?? 0 }
    }

    // MARK: HTTP

    func get(_ path: String, token: String? = nil) async throws -> (status: Int, body: Data) {
        try await Self.httpGet(port: port, path: path, token: token)
    }

    /// `GET` on a gateway at `port` on loopback (one this test system did not start, e.g. `bagbot up`'s).
    static func httpGet(port: Int, path: String, token: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 5
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// Any request to the gateway, with an optional JSON body and extra header fields.
    func send(_ method: String, _ path: String, token: String? = nil, json: String? = nil,
              headers: [String: String] = [:]) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 20
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// `POST /api/orders` as the system comes up: asked again (every second, up to 90 times) while the gateway's link
    /// to a daemon is still connecting (503, or no answer) and while mindsetd's link to routerd's fill log is (409
    /// `trades_pending`: it fails closed until it can count). Each attempt has its own Idempotency-Key (`key-n`), as an
    /// answer is final for its key. The last answer.
    func placeOrderOnceUp(token: String, json: String, key: String) async throws -> (status: Int, body: Data) {
        var answer: (status: Int, body: Data) = (0, Data())
        for attempt in 0..<90 {
            answer = (try? await send("POST", "/api/orders", token: token, json: json, headers: ["Idempotency-Key": "\(key)-\(attempt)"])) ?? (0, Data())
            let error = (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["error"] as? [String: Any]
            let pending = answer.status == 409 && (error?["codes"] as? [String] ?? []).contains("trades_pending")
            if answer.status != 0 && answer.status != 503 && !pending { break }
            try await Task.sleep(for: .seconds(1))
        }
        return answer
    }

    /// Configuration that turns both default strategies off: only the test's own orders trade.
    static let strategiesOff = "arsenal:\n  micro_trend:\n    enabled: false\n  mean_reversion:\n    enabled: false\n"

    static func freePort() throws -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw SystemCallError("bind") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
