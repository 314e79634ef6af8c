import ArgumentParser
import Foundation
import BagbotRuntime

/// `bagbot trace ID`: every log line about one request — a tick's signal, mindsetd's decision, routerd's order and
/// its fills, the closed trade; a manual order's gateway line too — from all four processes, oldest first
/// (GET /api/logs?requestId=…; docs/observability.md, "One request id").
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show every log line of one request id from all four processes, in time order (GET /api/logs?requestId=).")
    @OptionGroup var gateway: GatewayOptions
    @Argument(help: "The request id: an order's requestId (GET /api/orders), or the gateway's request id of an HTTP call.")
    var requestId: String

    func validate() throws {
        guard (1...128).contains(requestId.utf8.count),
              requestId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw ValidationError("a request id is 1–128 letters, digits and - _ . :")
        }
    }

    func run() async throws {
        let answer = try await gateway.client().send("GET", "/api/logs?limit=1000&requestId=\(requestId)")
        if gateway.json { return StandardOutput.print(answer.text) }
        let page = try answer.object()
        let lines = (page["lines"] as? [[String: Any]] ?? []).sorted { ($0["time"] as? String ?? "") < ($1["time"] as? String ?? "") }
        StandardOutput.print(TraceLines.render(lines, unavailable: page["unavailable"] as? [String] ?? [], requestId: requestId))
    }
}

enum TraceLines {
    /// One line each: time, process, level, component, message, then its details as key=value, sorted.
    static func render(_ lines: [[String: Any]], unavailable: [String], requestId: String) -> String {
        var out: [String] = []
        if lines.isEmpty { out.append("no log line mentions \(requestId) (each process keeps its last 2,000 lines)") }
        for line in lines {
            let metadata = (line["metadata"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let fields = [line["time"] as? String ?? "-", line["daemon"] as? String ?? "-", line["level"] as? String ?? "-",
                          line["component"] as? String ?? "-", line["message"] as? String ?? ""]
            out.append((fields + metadata).joined(separator: "  "))
        }
        if !unavailable.isEmpty { out.append("not answering, so missing here: \(unavailable.joined(separator: ", "))") }
        return out.joined(separator: "\n")
    }
}
