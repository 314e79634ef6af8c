import Foundation
import Hummingbird
import Logging

/// The yardstick of `scripts/bench-gateway`: a bare Hummingbird 2 application with one route and no middleware,
/// answering the same object as `GET /api/subscription/me` (the same members, nested the same way, about the same
/// bytes), made and encoded per request as a plain Hummingbird route does (its default `JSONEncoder`). The gateway's
/// authenticated routes are measured against it in the same run (docs/performance.md, "The gateway under wrk").
///
///   gateway-baseline --port 18090
struct Bare: ResponseEncodable {
    struct Limits: Encodable {
        var perDay = 0
        var perMinute = 100_000
        var readOnly = false
    }
    struct Token: Encodable {
        var createdAt = "2026-12-04T21:20:57Z"
        var id = "84499ead3a126d0e"
        var owner = "bench-0"
        var prefix = "bgb_WS1EVc"
        var role = "user"
        var state = "active"
        var tier = "enterprise"
    }
    struct Usage: Encodable {
        var dayResetsAt = "2026-12-05T00:00:00Z"
        var remainingThisMinute = 99_999
        var today = 12_345
    }
    var limits = Limits()
    var owner = "bench-0"
    var role = "user"
    var status = "active"
    var tier = "enterprise"
    var token = Token()
    var usage = Usage()
}

let arguments = CommandLine.arguments
guard let flag = arguments.firstIndex(of: "--port"), flag + 1 < arguments.count, let port = Int(arguments[flag + 1]) else {
    FileHandle.standardError.write(Data("usage: gateway-baseline --port N\n".utf8))
    exit(2)
}
var logger = Logger(label: "gateway-baseline")
logger.logLevel = .warning
let router = Router()
router.get("/bare") { _, _ in Bare() }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
