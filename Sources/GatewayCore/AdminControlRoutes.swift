import Foundation
import Hummingbird
import BagbotDomain
import BagbotIPC
import BagbotRuntime

/// `/api/admin` control of the running system: routerd's trading switch, every process's status, and mindsetd's
/// admin lock. Admin tokens only.
enum AdminControlRoutes {
    struct ReasonBody: Codable {
        var reason: String?
        static let fields: Set<String> = ["reason"]
    }

    /// `mindset.lock` / `mindset.unlock` requests (mindsetd's `LockRequest` without a time, `UnlockRequest`).
    struct MindsetReason: Codable, Sendable {
        var reason: String
    }

    /// One process in `GET /api/admin/status`.
    struct ProcessStatus: Codable, Sendable {
        /// `up` (it answered `health`) or `down`.
        var state: String
        /// Its own report: `ok` or `degraded`; absent when down.
        var status: String?
        var version: String?
        var uptimeSeconds: Double?
        var summary: String?
        /// The gateway's connection to it (`connected`, `connecting (…)`).
        var connection: String?
        var peers: [String: String]?
        var counters: [String: String]?
        /// Why it is counted down.
        var error: String?
    }

    struct Status: Codable, Sendable {
        var services: [String: ProcessStatus]
    }

    static func add(to router: Router<GatewayContext>, table: RouteTable, environment: GatewayEnvironment) {
        let admin = router.group("/api/admin").add(middleware: RequireAdminMiddleware())
        let daemons = environment.daemons
        let timeout = environment.timeouts.control

        admin.post("pause") { request, context in
            let identity = try context.requireIdentity()
            let body = try await JSONBody.decode(ReasonBody.self, from: request, context: context, fields: ReasonBody.fields, emptyIsAllowed: true)
            let reason = body?.reason ?? "paused by admin \(identity.token.prefix)"
            let state: TradingSwitchState = try await ControlCall.ask("routerd", refusal: ControlCall.routerRefusal) {
                try await daemons.router.call(Methods.routerPause, PauseRequest(reason: reason), timeout: timeout)
            }
            context.logger.notice("trading paused", metadata: ["reason": "\(reason)", "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(state)
        }
        table.note("/api/admin/pause", .post)

        admin.post("resume") { request, context in
            let identity = try context.requireIdentity()
            _ = try await JSONBody.decode(StrategyRoutes.NoFields.self, from: request, context: context, fields: [], emptyIsAllowed: true)
            let state: TradingSwitchState = try await ControlCall.ask("routerd", refusal: ControlCall.routerRefusal) {
                try await daemons.router.call(Methods.routerResume, EmptyBody(), timeout: timeout)
            }
            context.logger.notice("trading resumed", metadata: ["by": "\(identity.token.prefix)"])
            return try JSONResponse.make(state)
        }
        table.note("/api/admin/resume", .post)

        admin.get("status") { _, _ in
            try JSONResponse.make(await status(environment: environment))
        }
        table.note("/api/admin/status", .get)

        admin.post("mindset/lock") { request, context in
            let identity = try context.requireIdentity()
            guard let body = try await JSONBody.decode(ReasonBody.self, from: request, context: context, fields: ReasonBody.fields),
                  let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
                throw APIError.unprocessable("a lock needs a reason: {\"reason\": \"…\"}")
            }
            // The snapshot is read inside: an answer that cannot be read is "may have taken effect", not a 500.
            let snapshot = try await ControlCall.ask("mindsetd", refusal: ControlCall.mindsetRefusal) {
                try MindsetView.api(try await daemons.mindset.call(Methods.mindsetLock, MindsetReason(reason: reason), timeout: timeout))
            }
            context.logger.notice("mindset locked", metadata: ["reason": "\(reason)", "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(snapshot)
        }
        table.note("/api/admin/mindset/lock", .post)

        admin.post("mindset/unlock") { request, context in
            let identity = try context.requireIdentity()
            let body = try await JSONBody.decode(ReasonBody.self, from: request, context: context, fields: ReasonBody.fields, emptyIsAllowed: true)
            let given = body?.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let reason = given.isEmpty ? "unlocked by admin \(identity.token.prefix)" : given
            let snapshot = try await ControlCall.ask("mindsetd", refusal: ControlCall.mindsetRefusal) {
                try MindsetView.api(try await daemons.mindset.call(Methods.mindsetUnlock, MindsetReason(reason: reason), timeout: timeout))
            }
            context.logger.notice("mindset unlocked", metadata: ["reason": "\(reason)", "by": "\(identity.token.prefix)"])
            return try JSONResponse.make(snapshot)
        }
        table.note("/api/admin/mindset/unlock", .post)
    }

    /// Every process: the gateway itself, and each daemon's `health` (1 s each, asked at once). A daemon that does
    /// not answer is `down`; the route still answers 200, since saying so is its purpose.
    static func status(environment: GatewayEnvironment) async -> Status {
        let usage = environment.usage
        var services: [String: ProcessStatus] = [
            "gateway": ProcessStatus(
                state: "up", status: "ok", version: BagbotVersion.current,
                uptimeSeconds: Date().timeIntervalSince(environment.started), summary: "serving HTTP", connection: "self",
                peers: Dictionary(uniqueKeysWithValues: environment.daemons.all.map { ($0.peerService, $0.state.summary) }),
                counters: HealthReport(service: "gateway", status: "ok", summary: "", uptimeSeconds: 0).withProcessDetails().details
                    .merging(["usage_written": "\(usage.written)", "usage_pending": "\(usage.pending)", "usage_dropped": "\(usage.dropped)"]) { $1 }
                    .filter { $0.key != "version" }),
        ]
        await withTaskGroup(of: (String, ProcessStatus).self) { group in
            for client in environment.daemons.all {
                group.addTask {
                    do {
                        let report: HealthReport = try await client.call(Methods.health, EmptyBody(), timeout: .seconds(1))
                        var counters = report.details
                        let version = counters.removeValue(forKey: "version")
                        return (client.peerService, ProcessStatus(
                            state: "up", status: report.status, version: version, uptimeSeconds: report.uptimeSeconds, summary: report.summary,
                            connection: client.state.summary, peers: report.peers, counters: counters))
                    } catch {
                        return (client.peerService, ProcessStatus(state: "down", connection: client.state.summary, error: "\(error)"))
                    }
                }
            }
            for await (name, status) in group { services[name] = status }
        }
        return Status(services: services)
    }
}
