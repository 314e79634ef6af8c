import Hummingbird

/// The first middleware: a path the router would read differently from the middleware behind it is refused with
/// 400 `non_canonical_path` before anything looks at it. Hummingbird's router skips empty segments, so `//api/orders`
/// reached the orders route while the checks that key on the path (`/healthz` is public, `/api/admin/` needs the
/// admin role) saw something else. Refused: an empty segment (`//`, a trailing `/`), a `.` or `..` segment, and a
/// percent-encoded `/`, `.`, `\` or NUL anywhere in the path.
struct CanonicalPathMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        if let problem = Self.problem(request.uri.path) {
            return APIError(.badRequest, "non_canonical_path", "the path is not in canonical form (\(problem)); send it as the API documents it")
                .response()
        }
        return try await next(request, context)
    }

    /// Why `path` is not canonical, or nil when it is.
    static func problem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "it must start with /" }
        if path == "/" { return nil }
        let lowered = path.lowercased()
        for encoded in ["%2f", "%2e", "%5c", "%00"] where lowered.contains(encoded) {
            return "percent-encoded \(encoded.uppercased())"
        }
        if path.contains("\\") { return "a backslash" }
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "an empty segment" }
            if segment == "." || segment == ".." { return "a \(segment) segment" }
        }
        return nil
    }
}
