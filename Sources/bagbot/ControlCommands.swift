import ArgumentParser
import Foundation
import BagbotRuntime

/// `bagbot status`: every process of a running system (GET /api/admin/status), as a table or the gateway's JSON.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each process of a running system: up or down, version, uptime, counters (GET /api/admin/status).")
    @OptionGroup var gateway: GatewayOptions
    @Flag(help: "Also print every counter of each process.") var counters = false

    func run() async throws {
        let answer = try await gateway.client().send("GET", "/api/admin/status")
        if gateway.json { return StandardOutput.print(answer.text) }
        let services = try answer.object()["services"] as? [String: [String: Any]] ?? [:]
        StandardOutput.print(StatusTable.render(services, counters: counters))
    }
}

/// `bagbot pause [--reason …]`: turns routerd's trading switch off (new entries refused; exits, stops and cancels pass).
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause trading: routerd refuses new entries; exits, stops and cancels still pass (POST /api/admin/pause).")
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Why, for the record (default: paused by admin <token prefix>).") var reason: String?

    func run() async throws {
        let answer = try await gateway.client().send("POST", "/api/admin/pause", json: reason.map { ["reason": $0] } ?? [:], changesState: true)
        if gateway.json { return StandardOutput.print(answer.text) }
        StandardOutput.print(SwitchLine.render(try answer.object()))
    }
}

/// `bagbot resume`: turns the trading switch back on.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume trading (POST /api/admin/resume).")
    @OptionGroup var gateway: GatewayOptions

    func run() async throws {
        let answer = try await gateway.client().send("POST", "/api/admin/resume", json: [:], changesState: true)
        if gateway.json { return StandardOutput.print(answer.text) }
        StandardOutput.print(SwitchLine.render(try answer.object()))
    }
}

/// `bagbot lock --reason …`: mindsetd's admin lock (no new entries until an unlock or the daily reset).
struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Lock the mindset: no new entries until `bagbot unlock` or the daily reset (POST /api/admin/mindset/lock).")
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Why (required).") var reason: String

    func run() async throws {
        let answer = try await gateway.client().send("POST", "/api/admin/mindset/lock", json: ["reason": reason], changesState: true)
        if gateway.json { return StandardOutput.print(answer.text) }
        StandardOutput.print(MindsetLine.render(try answer.object()))
    }
}

/// `bagbot unlock`: lifts an admin lock (a lock a limit set is lifted by the daily reset only: the gateway says 409).
struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Lift an admin lock of the mindset (POST /api/admin/mindset/unlock); a limit's lock waits for the daily reset.")
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "Why, for the record (default: unlocked by admin <token prefix>).") var reason: String?

    func run() async throws {
        let answer = try await gateway.client().send("POST", "/api/admin/mindset/unlock", json: reason.map { ["reason": $0] } ?? [:], changesState: true)
        if gateway.json { return StandardOutput.print(answer.text) }
        StandardOutput.print(MindsetLine.render(try answer.object()))
    }
}

enum StatusTable {
    static let order = ["gateway", "routerd", "arsenald", "mindsetd"]

    static func render(_ services: [String: [String: Any]], counters: Bool) -> String {
        let names = order.filter { services[$0] != nil } + services.keys.filter { !order.contains($0) }.sorted()
        let titles = ["PROCESS", "STATE", "STATUS", "VERSION", "UPTIME", "SUMMARY"]
        let rows = names.map { name -> [String] in
            let service = services[name] ?? [:]
            let uptime = (service["uptimeSeconds"] as? Double).map(duration) ?? "-"
            let summary = service["summary"] as? String ?? service["error"] as? String ?? "-"
            return [name, service["state"] as? String ?? "?", service["status"] as? String ?? "-", service["version"] as? String ?? "-",
                    uptime, summary]
        }
        let widths = titles.indices.map { index in max(titles[index].count, rows.map { $0[index].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        var lines = [line(titles)] + rows.map(line)
        if counters {
            for name in names {
                guard let values = services[name]?["counters"] as? [String: String], !values.isEmpty else { continue }
                lines.append("")
                lines.append("\(name):")
                lines += values.keys.sorted().map { "  \($0) = \(values[$0] ?? "")" }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// 93784 s → `1d 2h 3m`; under a minute, seconds.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total < 60 { return "\(total)s" }
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60)
        return days > 0 ? "\(days)d \(hours)h \(minutes)m" : hours > 0 ? "\(hours)h \(minutes)m" : "\(minutes)m"
    }
}

enum SwitchLine {
    static func render(_ state: [String: Any]) -> String {
        let enabled = state["enabled"] as? Bool == true
        let reason = (state["reason"] as? String).map { " (\($0))" } ?? ""
        return "Trading: \(enabled ? "on" : "paused")\(reason) since \(state["changedAt"] as? String ?? "?")"
    }
}

enum MindsetLine {
    static func render(_ snapshot: [String: Any]) -> String {
        let state = snapshot["emotionState"] as? String ?? "?"
        let reason = (snapshot["lockReason"] as? String).map { " (\($0))" } ?? ""
        return "Mindset: \(state)\(reason)"
    }
}
