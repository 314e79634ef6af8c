import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// The web dashboard at `/` (docs/dashboard.md): static files served by Hummingbird's `FileMiddleware`, without a
/// token — the page itself holds no data; every figure comes from `/api` with the token the trader types in. Only
/// `/` and `/assets/…` are looked up on disk; every other path goes on to the API's middleware untouched.
struct DashboardMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// Nil when the files are not installed: the dashboard's paths answer 404 saying so.
    let files: FileMiddleware<GatewayContext, LocalFileSystem>?

    /// Nothing but the gateway's own files and API: no inline script, no other origin, not framed.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        .xContentTypeOptions: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    init(directory: String?) {
        files = directory.map {
            FileMiddleware($0, cacheControl: .init([(MediaType(type: .any), [.noCache])]), searchForIndexHtml: true,
                           logger: Logger(label: "gateway.dashboard"))
        }
    }

    static func serves(_ path: String) -> Bool {
        path == "/" || path == "/index.html" || path.hasPrefix("/assets/")
    }

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard Self.serves(request.uri.path), request.method == .get || request.method == .head else {
            return try await next(request, context)
        }
        guard let files else {
            throw APIError(.notFound, "dashboard_not_installed",
                           "the dashboard's files are not installed here (gateway.dashboard_dir); the API is at /api and /openapi.json")
        }
        var response = try await files.handle(request, context: context) { _, _ in
            throw APIError(.notFound, "not_found", "no such file of the dashboard: \(request.uri.path.prefix(80))")
        }
        response.headers.append(contentsOf: Self.securityHeaders)
        return response
    }

    /// Where the dashboard's files are: `gateway.dashboard_dir` when set; else beside the binary as SwiftPM builds
    /// it (`bagbot_GatewayCore.resources/Dashboard`); else where `deploy/install.sh` puts them. Nil: not installed.
    static func directory(configured: String, executable: String = CommandLine.arguments.first ?? "") -> String? {
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent().path
        let candidates = configured.isEmpty
            ? [binary + "/bagbot_GatewayCore.resources/Dashboard", "/usr/local/share/bagbot/dashboard"]
            : [configured]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}
