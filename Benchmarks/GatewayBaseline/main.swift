import Foundation
import Hummingbird
import Logging

/// The yardstick of `scripts/bench-gateway`: a bare Hummingbird 2 application with one route and no middleware,
/// answering a JSON object about the size of `GET /api/subscription/me`'s. The gateway's authenticated routes are
/// measured against it in the same run (docs/performance.md, "The gateway under wrk").
///
///   gateway-baseline --port 18090
struct Bare: ResponseEncodable {
    var owner = "bench-0"
    var tier = "enterprise"
    var role = "user"
    var status = "active"
    var limits = ["perMinute": 100_000, "perDay": 0]
    var usedToday = 12_345
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
