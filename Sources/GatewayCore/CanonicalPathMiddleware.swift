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

    /// Why `path` is not canonical, or nil when it is. Every request comes through here: a path without `%` or `\\`
    /// (nearly all) is read as bytes, the rest by `spelledProblem`, which says which encoding it found.
    static func problem(_ path: String) -> String? {
        if let read = path.utf8.withContiguousStorageIfAvailable({ segmentProblem($0) }), let verdict = read { return verdict }
        return spelledProblem(path)
    }

    /// nil when the path has a `%` or `\\` (or is not a `/` path): `spelledProblem` answers those.
    private static func segmentProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String?? {
        guard bytes.first == UInt8(ascii: "/") else { return .none }
        if bytes.count == 1 { return .some(nil) }
        // The first bad segment is the answer only if no `%` or `\\` follows: an encoding is reported first.
        var start = 1
        var segment: String?
        for index in 1...bytes.count {
            let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") { return .none }
            guard byte == UInt8(ascii: "/") else { continue }
            if segment == nil {
                switch index - start {
                case 0: segment = "an empty segment"
                case 1 where bytes[start] == UInt8(ascii: "."): segment = "a . segment"
                case 2 where bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: "."): segment = "a .. segment"
                default: break
                }
            }
            start = index + 1
        }
        return .some(segment)
    }

    /// The same rules on the path as text, naming the first encoding of the list that it holds.
    static func spelledProblem(_ path: String) -> String? {
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
