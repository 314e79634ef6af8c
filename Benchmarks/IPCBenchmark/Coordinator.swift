#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotIPC

/// Runs every measurement in fresh child processes (this executable re-executed through `/proc/self/exe`,
/// under `taskset` when pinned, so that every thread of a child, NIO's included, inherits the placement
/// before it exists) and prints medians across runs.
struct Coordinator {
    struct Options {
        var runs = 3
        var warmup = 2_000
        var roundTrips = 20_000
        var pipelined = 100_000
        var windows = [256, 1_024]
        var placements: [String] = ["one-core", "two-cores", "unpinned"]
        /// The IPC clients' `replyBusyPoll`, as `ipc.reply_busy_poll_us` sets it for the daemons.
        var variants = Variant.allCases
        var busyPollMicroseconds = Int(IPCClientConfiguration.defaultReplyBusyPoll / .microseconds(1))
    }

    struct Placement {
        let name: String
        let label: String
        let serverCPU: Int?
        let clientCPU: Int?
    }

    /// From the floor up: each step adds one part of the IPC layer's cost.
    enum Variant: String, CaseIterable {
        case raw = "raw"
        case nioEcho = "nio-echo"
        case ipcServer = "ipc-server-raw-client"
        case epollClient = "ipc-server-raw-epoll-client"
        case spinClient = "ipc-server-raw-spin-client"
        case nioClient = "ipc-server-nio-client"
        case ipc = "ipc"
        case ipcLoopNoPoll = "ipc-client-loop-no-poll"
        case ipcLoop = "ipc-client-loop"
        case ipcAsync = "ipc-async-handler"

        var label: String {
            switch self {
            case .raw: return "raw ping-pong (blocking client and server, no JSON)"
            case .nioEcho: return "raw client → NIO framing echo server (no JSON)"
            case .ipcServer: return "raw client → IPCServer (JSON, sync handler)"
            case .epollClient: return "raw client waiting in epoll_wait → IPCServer"
            case .spinClient: return "raw client spinning on epoll_wait(0) → IPCServer"
            case .nioClient: return "NIO client, no JSON, no tasks, no polling → IPCServer"
            case .ipc: return "IPCClient from a plain task → IPCServer, sync handler"
            case .ipcLoopNoPoll: return "IPCClient on the client's loop, busy poll off → IPCServer, sync handler"
            case .ipcLoop: return "IPCClient on the client's loop → IPCServer, sync handler"
            case .ipcAsync: return "IPCClient on the client's loop → IPCServer, async handler"
            }
        }

        var isFullIPC: Bool { self == .ipc || self == .ipcLoopNoPoll || self == .ipcLoop || self == .ipcAsync }

        var rawClientWait: String {
            switch self {
            case .epollClient: return "epoll"
            case .spinClient: return "spin"
            default: return "block"
            }
        }
    }

    static let allPlacements = [
        Placement(name: "one-core", label: "both processes pinned to CPU 0", serverCPU: 0, clientCPU: 0),
        Placement(name: "two-cores", label: "server pinned to CPU 1, client to CPU 0", serverCPU: 1, clientCPU: 0),
        Placement(name: "unpinned", label: "not pinned (the scheduler's choice, as the daemons run)", serverCPU: nil, clientCPU: nil),
    ]

    let options: Options
    let executable: String
    let directory: String

    init(options: Options) {
        self.options = options
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            die("cannot read /proc/self/exe")
        }
        self.executable = executable
        var template = Array("/tmp/bb-bench-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { die("mkdtemp failed") }
        directory = String(cString: made)
    }

    static func parse(_ arguments: ArraySlice<String>) -> Options {
        var options = Options()
        var rest = arguments
        func number(_ flag: String) -> Int {
            guard let text = rest.popFirst(), let value = Int(text), value > 0 else { die("\(flag) needs a positive number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--runs": options.runs = number(flag)
            case "--warmup": options.warmup = number(flag)
            case "--round-trips": options.roundTrips = number(flag)
            case "--pipelined": options.pipelined = number(flag)
            case "--windows":
                guard let text = rest.popFirst() else { die("--windows needs a list such as 256,1024") }
                options.windows = text.split(separator: ",").compactMap { Int($0) }
            case "--placements":
                guard let text = rest.popFirst() else { die("--placements needs a list such as one-core,two-cores") }
                options.placements = text.split(separator: ",").map(String.init)
            case "--variants":
                guard let text = rest.popFirst() else { die("--variants needs a list such as raw,ipc-client-loop") }
                options.variants = text.split(separator: ",").map { name in
                    guard let variant = Variant(rawValue: String(name)) else {
                        die("unknown variant \(name); known: \(Variant.allCases.map(\.rawValue).joined(separator: ","))")
                    }
                    return variant
                }
                if !options.variants.contains(.raw) { options.variants.insert(.raw, at: 0) }  // the ratios need it
            case "--busy-poll-us":
                guard let text = rest.popFirst(), let value = Int(text), value >= 0 else { die("--busy-poll-us needs a number, 0 for off") }
                options.busyPollMicroseconds = value
            case "--quick":
                options.runs = 1
                options.warmup = 500
                options.roundTrips = 5_000
                options.pipelined = 20_000
            case "-h", "--help":
                print("""
                    usage: ipc-benchmark [--runs N] [--round-trips N] [--warmup N] [--pipelined N]
                                         [--windows 256,1024] [--placements one-core,two-cores,unpinned]
                                         [--variants raw,ipc-client-loop,…] [--busy-poll-us 200] [--quick]
                    """)
                exit(0)
            default: die("unknown argument \(flag)")
            }
        }
        return options
    }

    // MARK: children

    private func spawn(_ arguments: [String], cpu: Int?) -> (Process, Pipe) {
        let process = Process()
        if let cpu {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            process.arguments = ["-c", "\(cpu)", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do { try process.run() } catch { die("cannot start \(arguments.first ?? ""): \(error)") }
        return (process, output)
    }

    private func startServer(_ role: String, path: String, cpu: Int?) -> Process {
        let (process, output) = spawn([role, path], cpu: cpu)
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { die("\(role) exited before it was ready") }
            seen.append(chunk)
        }
        return process
    }

    private func runClient(_ arguments: [String], cpu: Int?) -> ClientReport {
        let (process, output) = spawn(arguments, cpu: cpu)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { die("\(arguments.first ?? "") failed with status \(process.terminationStatus)") }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let report = try? JSONDecoder().decode(ClientReport.self, from: Data(line.utf8)) else {
            die("unreadable client report: \(String(decoding: data, as: UTF8.self))")
        }
        return report
    }

    private func measure(_ variant: Variant, _ placement: Placement, run: Int) -> ClientReport {
        let path = "\(directory)/\(variant.rawValue)-\(placement.name)-\(run).sock"
        let windows = options.windows.map(String.init).joined(separator: ",")
        let server: Process
        let report: ClientReport
        switch variant {
        case .raw, .nioEcho, .ipcServer, .epollClient, .spinClient:
            let role = variant == .raw ? "raw-server" : variant == .nioEcho ? "nio-echo-server" : "ipc-server"
            server = startServer(role, path: path, cpu: placement.serverCPU)
            report = runClient(
                ["raw-client", path, "\(options.warmup)", "\(options.roundTrips)", "\(options.pipelined)",
                 role == "ipc-server" ? "1" : "0", variant.rawClientWait],
                cpu: placement.clientCPU)
        case .nioClient:
            server = startServer("ipc-server", path: path, cpu: placement.serverCPU)
            report = runClient(["nio-client", path, "\(options.warmup)", "\(options.roundTrips)"], cpu: placement.clientCPU)
        case .ipc, .ipcLoopNoPoll, .ipcLoop, .ipcAsync:
            server = startServer("ipc-server", path: path, cpu: placement.serverCPU)
            let method = variant == .ipcAsync ? "bench.echoAsync" : "bench.echo"
            let executor = variant == .ipc ? "default" : "client-loop"
            let busyPollMicroseconds = variant == .ipcLoopNoPoll ? 0 : options.busyPollMicroseconds
            report = runClient(
                ["ipc-client", path, method, executor, "\(options.warmup)", "\(options.roundTrips)",
                 "\(options.pipelined)", windows, "\(busyPollMicroseconds)"],
                cpu: placement.clientCPU)
        }
        server.terminate()
        server.waitUntilExit()
        unlink(path)
        return report
    }

    // MARK: the run

    func run() {
        let placements = Self.allPlacements.filter { options.placements.contains($0.name) }
        guard !placements.isEmpty else { die("no known placement in \(options.placements)") }
        note("ipc-benchmark: \(options.runs) run(s), \(options.roundTrips) round trips after \(options.warmup) warm-up, "
             + "\(options.pipelined) pipelined calls per window \(options.windows)")
        var results: [String: [ClientReport]] = [:]   // "variant/placement" → one report per run
        for run in 1...options.runs {
            for placement in placements {
                for variant in options.variants {
                    let report = measure(variant, placement, run: run)
                    results["\(variant.rawValue)/\(placement.name)", default: []].append(report)
                    let rates = report.throughput.sorted { $0.key < $1.key }
                        .map { "\($0.key) \(Self.rate($0.value))" }.joined(separator: ", ")
                    note(String(format: "run %d  %-10@ %-18@ p50 %7.1f µs  p99 %7.1f µs  %@  (client cpus %@)",
                                run, placement.name, variant.rawValue, report.roundTrip.p50, report.roundTrip.p99,
                                rates, report.cpus))
                }
            }
        }
        let coding = CodingCost.microsecondsPerCall()
        printTables(results, placements: placements, coding: coding)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func rate(_ value: Double) -> String {
        value >= 1_000 ? String(format: "%.0fk/s", value / 1_000) : String(format: "%.0f/s", value)
    }

    private func printTables(_ results: [String: [ClientReport]], placements: [Placement], coding: (foundation: Double, now: Double)) {
        func reports(_ variant: Variant, _ placement: Placement) -> [ClientReport] {
            results["\(variant.rawValue)/\(placement.name)"] ?? []
        }
        func med(_ variant: Variant, _ placement: Placement, _ pick: (ClientReport) -> Double?) -> Double {
            median(reports(variant, placement).compactMap(pick))
        }
        func bestWindow(_ report: ClientReport) -> Double? {
            report.throughput.filter { $0.key.hasPrefix("window") }.values.max()
        }
        func fmt(_ value: Double, _ decimals: Int = 1) -> String {
            value.isNaN ? "–" : String(format: "%.\(decimals)f", value)
        }
        func count(_ value: Double) -> String {
            value.isNaN ? "–" : NumberFormatter.localizedString(from: NSNumber(value: Int(value.rounded())), number: .decimal)
        }
        func verdict(_ ok: Bool) -> String { ok ? "met" : "NOT met" }

        print("")
        print("## Results: medians of \(options.runs) run(s)")
        print("")
        print("Round trip in µs (\(count(Double(options.roundTrips))) sequential calls after \(count(Double(options.warmup))) warm-up); "
              + "pipelined in calls/s (\(count(Double(options.pipelined))) calls kept `window` deep in flight; raw client: "
              + "a stream of \(count(Double(options.pipelined))) requests, one write per request, read back by another thread).")
        for placement in placements {
            print("")
            print("### \(placement.name): \(placement.label)")
            print("")
            let header = "| variant | p50 µs | p90 µs | p99 µs | p99.9 µs | " + options.windows.map { "window \($0)/s" }.joined(separator: " | ")
                + " | stream/s |"
            print(header)
            print("|" + String(repeating: " --- |", count: 6 + options.windows.count))
            for variant in options.variants {
                var row = "| \(variant.label) | \(fmt(med(variant, placement) { $0.roundTrip.p50 })) | "
                    + "\(fmt(med(variant, placement) { $0.roundTrip.p90 })) | \(fmt(med(variant, placement) { $0.roundTrip.p99 })) | "
                    + "\(fmt(med(variant, placement) { $0.roundTrip.p999 })) |"
                for window in options.windows {
                    row += " \(count(med(variant, placement) { $0.throughput["window \(window)"] })) |"
                }
                row += " \(count(med(variant, placement) { $0.throughput["stream"] })) |"
                print(row)
            }
            let rawP50 = med(.raw, placement) { $0.roundTrip.p50 }
            print("")
            print("| against the targets | IPC p50 / raw p50 (≤ 1.5) | IPC p99 / raw p50 (≤ 4) | pipelined calls/s, best window (≥ 100,000) |")
            print("| --- | --- | --- | --- |")
            for variant in options.variants where variant.isFullIPC {
                let p50Ratio = med(variant, placement) { $0.roundTrip.p50 } / rawP50
                let p99Ratio = med(variant, placement) { $0.roundTrip.p99 } / rawP50
                let pipelined = med(variant, placement, bestWindow)
                print("| \(variant.label) | \(fmt(p50Ratio, 2))× (\(verdict(p50Ratio <= 1.5))) | "
                      + "\(fmt(p99Ratio, 2))× (\(verdict(p99Ratio <= 4))) | \(count(pipelined)) (\(verdict(pipelined >= 100_000))) |")
            }
        }
        print("")
        print("JSON work per call, both sides together, in one thread: \(fmt(coding.now, 2)) µs as the IPC layer does it now "
              + "(FastJSON bodies, envelopes by hand); \(fmt(coding.foundation, 2)) µs all through Foundation's JSONEncoder/JSONDecoder.")
        print("")
        print("Per run (p50 / p99 µs, best pipelined calls/s):")
        for placement in placements {
            for variant in options.variants {
                let runs = reports(variant, placement).map { report -> String in
                    let pipelined = bestWindow(report) ?? report.throughput["stream"] ?? .nan
                    return "\(fmt(report.roundTrip.p50)) / \(fmt(report.roundTrip.p99)), \(count(pipelined))"
                }
                print("  \(placement.name) \(variant.rawValue): " + runs.joined(separator: "  |  "))
            }
        }
    }
}
