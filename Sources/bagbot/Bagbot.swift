import ArgumentParser
import Foundation
import Logging
import BagbotDomain
import BagbotIPC
import BagbotRuntime
import SupervisorCore
import UnixSignals

@main
struct Bagbot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bagbot", abstract: "BAGBOT operator command.",
        subcommands: [Up.self, BacktestCommand.self, CheckConfig.self, Call.self, Token.self, StatusCommand.self, PauseCommand.self,
                      ResumeCommand.self, LockCommand.self, UnlockCommand.self, TraceCommand.self])
}

/// `bagbot up`: the whole system under one directory, for a demo or development.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the four daemons as child processes, everything under one directory (not the production path: use systemd).")

    /// mindsetd's clock skew for a replay not at real time: ten years, since its market time keeps no tie
    /// to the wall clock.
    static let acceleratedReplaySkew = 315_360_000

    @Option(help: "Directory for sockets (run/), database and state (state/), config and admin token.")
    var dir: String = "./bagbot-run"

    @Option(help: "Gateway TCP port.")
    var port: Int = 8080

    @Option(help: "Replay speed: a multiple of real time, or max.")
    var speed: String?

    @Option(help: "Replay this tick file (HistData quotes, tardis.dev trades or Binance trades CSV); repeat for several.")
    var data: [String] = []

    @Option(name: .customLong("set"), help: "Override a config key for every daemon, e.g. --set mindset.daily_loss_limit=500.")
    var overrides: [String] = []

    @Flag(help: "Keep the admin token's plaintext in DIR/admin.token (mode 0600). Without it the token is printed once and erased once the gateway has stored its hash.")
    var keepAdminToken = false

    func validate() throws {
        if let speed, ReplaySpeed(speed) == nil { throw ValidationError("--speed must be a positive number or max") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1–65535") }
        for file in data where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("--data \(file): no such file")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: .info, format: LogSetup.format(named: "auto"))
        let logger = Logger(label: "bagbot")
        let executable = CommandLine.executablePath
        let layout = DemoLayout(root: dir)
        try layout.prepare()
        let sharedData = DemoLayout.findSharedData(executable: executable)
        if try layout.writeConfigIfMissing(dataDir: sharedData) {
            StandardOutput.print("Wrote \(layout.configPath)")
        }
        if sharedData == nil && data.isEmpty {
            StandardOutput.print("""
                No real market data found beside the checkout (../shared/data): replaying a SYNTHETIC random walk.
                For real ticks pass --data FILE (HistData.com tick CSV, tardis.dev trades CSV, or a Binance trades
                dump from data.binance.vision).
                """)
        }
        var settings = ["gateway.port=\(port)"] + overrides
        if let speed {
            settings.append("router.replay.speed=\(speed)")
            // An accelerated replay's market time runs ahead of the wall clock without bound, so mindsetd's
            // check of request times against its clock is opened up (docs/mindset.md, "Input").
            if ReplaySpeed(speed) != .multiple(1), !overrides.contains(where: { $0.hasPrefix("mindset.max_clock_skew_seconds=") }) {
                settings.append("mindset.max_clock_skew_seconds=\(Self.acceleratedReplaySkew)")
            }
        }
        if !data.isEmpty {
            let absolute = data.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            settings.append("router.replay.files=[\(absolute.joined(separator: ", "))]")
        }
        let binaries = (executable as NSString).deletingLastPathComponent
        let arguments = ["--config", layout.configPath] + settings.flatMap { ["--set", $0] }
        // Fail here, with the file and key, rather than in four restarting children.
        do {
            try await ConfigurationCheck.run(binaries: binaries, arguments: arguments)
        } catch let failure as ConfigurationCheck.Failure {
            StandardError.write("\(failure)\n")
            throw ExitCode(2)
        }

        // The token whose plaintext is to be erased once the gateway has stored it, unless it is to be kept.
        var toErase: String?
        if let token = try layout.createAdminTokenIfMissing() {
            let kept = keepAdminToken ? "also in \(layout.adminTokenPath), mode 0600" : "not kept on disk: copy it now"
            StandardOutput.print("""
                First admin token (shown once; \(kept)):
                  \(token)
                """)
            toErase = token
        } else {
            switch layout.adminTokenFile {
            case .kept(let token):
                StandardOutput.print("Admin token: \(layout.adminTokenPath)\(keepAdminToken ? "" : " (erased once the gateway accepts it; --keep-admin-token keeps it)")")
                toErase = token
            case .erased, .missing:
                StandardOutput.print("Admin token: shown at the first start and not kept (docs/operations.md, \"A lost admin token\")")
            }
        }
        if keepAdminToken { toErase = nil }

        let supervisor = Supervisor(
            children: ["mindsetd", "routerd", "arsenald", "gateway"].map {
                Supervisor.Child(name: $0, executable: binaries + "/" + $0, arguments: arguments)
            },
            logger: logger)

        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        try await supervisor.start()
        let erasing = toErase.map { token in
            Task { [port] in await AdminTokenErasure.eraseOnceAccepted(token: token, port: port, layout: layout, logger: logger) }
        }
        StandardOutput.print("Gateway: http://127.0.0.1:\(port)  (GET /healthz; GET /api/orders and /api/positions with the admin token)")
        StandardOutput.print("Press Ctrl-C to stop.")
        for await signal in signals {
            logger.notice("stopping all daemons", metadata: ["signal": "\(signal)"])
            break
        }
        erasing?.cancel()
        await supervisor.stop()
        logger.notice("all daemons stopped")
    }
}

/// `bagbot check-config`: the whole file checked by every daemon, before a restart rather than after.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check bagbot.yaml (and --set overrides) against every daemon; exit 0 when all accept it, 2 when one refuses.")

    @Option(help: "Path of bagbot.yaml.")
    var config: String = "/etc/bagbot/bagbot.yaml"

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, as the daemons take it.", valueName: "key.path=value"))
    var overrides: [String] = []

    func run() async throws {
        let binaries = (CommandLine.executablePath as NSString).deletingLastPathComponent
        do {
            try await ConfigurationCheck.run(binaries: binaries, arguments: ["--config", config] + overrides.flatMap { ["--set", $0] })
        } catch let failure as ConfigurationCheck.Failure {
            StandardError.write("\(failure)\n")
            throw ExitCode(2)
        }
        StandardOutput.print("\(config): valid for \(ConfigurationCheck.daemons.joined(separator: ", "))")
    }
}

/// `bagbot call`: one IPC request to a daemon's socket, for operators and debugging.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send one request to a daemon's socket and print the response body.")

    @Option(help: "The daemon's socket, e.g. /run/bagbot/routerd.sock.")
    var socket: String

    @Argument(help: "Method, e.g. health or router.orders.")
    var method: String

    @Argument(help: "JSON body (default {}).")
    var body: String = "{}"

    func run() async throws {
        LogSetup.bootstrap(level: .warning, format: .plain)
        guard let data = body.data(using: .utf8), let json = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ValidationError("the body must be JSON")
        }
        let service = ((socket as NSString).lastPathComponent as NSString).deletingPathExtension
        let client = IPCClient(ownService: "bagbot", peerService: service,
                               configuration: IPCClientConfiguration(socketPath: socket, requestTimeout: .seconds(10), maximumBackoff: .milliseconds(200)),
                               logger: Logger(label: "bagbot.call"))
        client.start()
        defer { Task { await client.shutdown() } }
        let deadline = ContinuousClock.now + .seconds(3)
        while !client.isConnected && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        do {
            let response: JSONValue = try await client.call(method, json)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(response), as: UTF8.self))
        } catch {
            StandardError.write("bagbot call: \(error)\n")
            await client.shutdown()
            throw ExitCode(1)
        }
        await client.shutdown()
    }
}

extension CommandLine {
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
