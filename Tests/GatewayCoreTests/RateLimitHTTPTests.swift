import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// The rate limits and their fields through the whole middleware, with the manual clock.
@Suite("Rate limits over HTTP")
struct RateLimitHTTPTests {
    @Test("the 60th request of a minute is the last admitted, the 61st is 429; every field exact at the boundary")
    func minuteBoundary() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "fay", tier: .free)
        let midnight = APIHarness.secondsToMidnight
        try await h.app.test(.router) { client async throws in
            for index in 1...59 {
                let response = try await client.call(.get, "/api/subscription/me", token: token)
                #expect(response.status == .ok)
                #expect(response["X-RateLimit-Remaining"] == String(60 - index))
            }
            let sixtieth = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(sixtieth.status == .ok)
            #expect(sixtieth["X-RateLimit-Limit"] == "60")
            #expect(sixtieth["X-RateLimit-Remaining"] == "0")
            #expect(sixtieth["X-RateLimit-Reset"] == "60")
            #expect(sixtieth["RateLimit-Policy"] == #""minute";q=60;w=60, "day";q=1000;w=86400"#)
            #expect(sixtieth["RateLimit"] == "\"minute\";r=0;t=60, \"day\";r=940;t=\(midnight)")
            #expect(sixtieth["Retry-After"] == nil)
            let me = try sixtieth.json()
            #expect((me["usage"] as? [String: Any])?["today"] as? Int == 60)

            let sixtyFirst = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(sixtyFirst.status == .tooManyRequests)
            #expect(sixtyFirst.errorCode == "rate_limited")
            #expect(sixtyFirst["Retry-After"] == "60")
            #expect(sixtyFirst["X-RateLimit-Limit"] == "60")
            #expect(sixtyFirst["X-RateLimit-Remaining"] == "0")
            #expect(sixtyFirst["X-RateLimit-Reset"] == "60")
            #expect(sixtyFirst["RateLimit"] == "\"minute\";r=0;t=60, \"day\";r=940;t=\(midnight)")

            // 41 s later the window still holds all 60: refused, 19 s to wait.
            h.clock.advance(41)
            let later = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(later.status == .tooManyRequests)
            #expect(later["Retry-After"] == "19")
            #expect(later["RateLimit"] == "\"minute\";r=0;t=19, \"day\";r=940;t=\(midnight - 41)")

            // Just before the first request leaves the window: still refused. At 60 s exactly: admitted.
            h.clock.advance(18.5)
            #expect(try await client.call(.get, "/api/subscription/me", token: token).status == .tooManyRequests)
            h.clock.advance(0.5)
            let again = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(again.status == .ok)
            // All 60 left the window together; this one is the only one in it.
            #expect(again["X-RateLimit-Remaining"] == "59")
            #expect(again["RateLimit"] == "\"minute\";r=59;t=60, \"day\";r=939;t=\(midnight - 60)")
        }
    }

    @Test("the window slides: a request leaves it 60 s after it was admitted, not at the top of a minute")
    func slidingWindow() async throws {
        var settings = GatewaySettings()
        settings.tiers.pro = TierLimits(perMinute: 3, perDay: 0, readOnly: false)
        let h = try APIHarness(settings: settings)
        let token = try await h.token(owner: "pat", tier: .pro)
        try await h.app.test(.router) { client async throws in
            func status() async throws -> HTTPResponse.Status { try await client.call(.get, "/api/subscription/me", token: token).status }
            #expect(try await status() == .ok)   // t = 0
            h.clock.advance(20)
            #expect(try await status() == .ok)   // t = 20
            h.clock.advance(20)
            #expect(try await status() == .ok)   // t = 40
            h.clock.advance(19)
            #expect(try await status() == .tooManyRequests)   // t = 59: three in the last 60 s
            h.clock.advance(1)
            #expect(try await status() == .ok)   // t = 60: the first left
            #expect(try await status() == .tooManyRequests)
            h.clock.advance(20)
            let response = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(response.status == .ok)   // t = 80: the second left
            // No daily cap: only the minute policy is announced.
            #expect(response["RateLimit-Policy"] == #""minute";q=3;w=60"#)
            #expect(response["RateLimit"] == #""minute";r=0;t=20"#)
        }
    }

    @Test("the daily cap: the 1,000th request of the UTC day is admitted, the 1,001st is 429 until midnight")
    func dailyCap() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "fay", tier: .free)
        try await h.app.test(.router) { client async throws in
            var admitted = 0
            // 60 a minute for 17 minutes: 1,020 attempts, 1,000 admitted.
            for _ in 0..<17 {
                for _ in 0..<60 {
                    let response = try await client.call(.get, "/api/subscription/me", token: token)
                    if response.status == .ok { admitted += 1 }
                    if admitted == 1_000 && response.status == .ok {
                        #expect(response["X-RateLimit-Remaining"] == "0")
                    }
                }
                h.clock.advance(60)
            }
            #expect(admitted == 1_000)
            let refused = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(refused.status == .tooManyRequests)
            let wait = APIHarness.secondsToMidnight - 17 * 60
            #expect(refused["Retry-After"] == String(wait))
            // The day is what refuses, so the X- fields report the day.
            #expect(refused["X-RateLimit-Limit"] == "1000")
            #expect(refused["X-RateLimit-Remaining"] == "0")
            #expect(refused["X-RateLimit-Reset"] == String(wait))
            #expect(refused.errorMessage?.contains("daily") == true)
            h.clock.advance(Double(wait))
            let tomorrow = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(tomorrow.status == .ok)
            #expect(tomorrow["RateLimit"] == "\"minute\";r=59;t=60, \"day\";r=999;t=86400")
        }
    }

    @Test("200 concurrent requests: exactly the quota is admitted, never one more")
    func concurrent() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "fay", tier: .free)
        let statuses = try await h.app.test(.router) { client async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await client.call(.get, "/api/subscription/me", token: token).status }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
        }
        #expect(statuses.filter { $0 == .ok }.count == 60)
        #expect(statuses.filter { $0 == .tooManyRequests }.count == 140)
        // Every call was recorded at the clean stop: 60 counted, 140 throttled.
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE status = 200") == 60)
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE status = 429") == 140)
    }

    @Test("200 requests on 200 real connections, all sent before any answer is read: exactly the quota is admitted")
    func concurrentOverSockets() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "fay", tier: .free)
        let app = Application(router: GatewayRoutes.build(environment: h.environment),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [h.usage], logger: quietLogger)
        let statuses = try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await Self.sendAllThenRead(port: port, count: 200, request: """
                GET /api/subscription/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n
                """)
        }
        #expect(statuses.count == 200)
        #expect(statuses.filter { $0 == 200 }.count == 60, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 140)
        // The app has stopped, so its usage recorder has written every call.
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE status = 200") == 60)
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE status = 429") == 140)
    }

    /// Opens `count` connections, writes `request` on every one, then reads each answer's status: the server has all
    /// of them at once. On a thread of its own, so the server's tasks keep the cooperative pool.
    static func sendAllThenRead(port: Int, count: Int, request: String) async throws -> [Int] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    var sockets: [Int32] = []
                    defer { sockets.forEach { close($0) } }
                    for _ in 0..<count {
                        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
                        sockets.append(fd)
                        var address = sockaddr_in()
                        address.sin_family = sa_family_t(AF_INET)
                        address.sin_port = in_port_t(UInt16(port).bigEndian)
                        address.sin_addr.s_addr = inet_addr("127.0.0.1")
                        let connected = withUnsafePointer(to: &address) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                        }
                        guard connected == 0 else { throw TestFailure("connect: errno \(errno)") }
                    }
                    let bytes = Array(request.utf8)
                    for fd in sockets {
                        guard write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("write: errno \(errno)") }
                    }
                    var statuses: [Int] = []
                    for fd in sockets {
                        var answer: [UInt8] = []
                        var chunk = [UInt8](repeating: 0, count: 4_096)
                        while true {
                            let n = read(fd, &chunk, chunk.count)
                            if n <= 0 { break }
                            answer += chunk[0..<n]
                        }
                        // "HTTP/1.1 200 OK"
                        let line = String(decoding: answer.prefix(while: { $0 != 13 }), as: UTF8.self)
                        statuses.append(Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0)
                    }
                    continuation.resume(returning: statuses)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test("two tokens of one owner share the owner's quota")
    func perOwner() async throws {
        var settings = GatewaySettings()
        settings.tiers.pro = TierLimits(perMinute: 2, perDay: 0, readOnly: false)
        let h = try APIHarness(settings: settings)
        let first = try await h.token(owner: "pat", tier: .pro)
        let second = try await h.token(owner: "pat", tier: .pro)
        let other = try await h.token(owner: "quinn", tier: .pro)
        try await h.app.test(.router) { client async throws in
            #expect(try await client.call(.get, "/api/subscription/me", token: first).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: second).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: first).status == .tooManyRequests)
            #expect(try await client.call(.get, "/api/subscription/me", token: other).status == .ok)
        }
    }

    @Test("a restarted gateway goes on from usage_logs: no fresh quota after a restart")
    func restartKeepsCounts() async throws {
        let dir = try TempDir()
        let clock = ManualClock(APIHarness.start)
        let token: String
        do {
            let first = try APIHarness(dir: dir, clock: clock)
            token = try await first.token(owner: "fay", tier: .free)
            try await first.app.test(.router) { client async throws in
                for _ in 0..<60 { #expect(try await client.call(.get, "/api/subscription/me", token: token).status == .ok) }
            }
        }
        clock.advance(30)
        let second = try APIHarness(dir: dir, clock: clock)
        try await second.app.test(.router) { client async throws in
            let response = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(response.status == .tooManyRequests)
            #expect(response["Retry-After"] == "30")
            #expect(response["RateLimit"] == "\"minute\";r=0;t=30, \"day\";r=940;t=\(APIHarness.secondsToMidnight - 30)")
        }
    }

    @Test("per-subscription overrides replace the tier's limits")
    func overrides() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "fay", tier: .free)
        _ = try await h.tokens.putSubscription(
            Subscription(owner: "fay", tier: .free, status: .active, overrides: LimitOverrides(perMinute: 2, perDay: 0)), now: h.clock.now())
        try await h.app.test(.router) { client async throws in
            let first = try await client.call(.get, "/api/subscription/me", token: token)
            #expect(first["RateLimit-Policy"] == #""minute";q=2;w=60"#)
            let me = try first.json()
            let limits = try #require(me["limits"] as? [String: Any])
            #expect(limits["perMinute"] as? Int == 2)
            #expect(limits["perDay"] as? Int == 0)
            #expect(limits["readOnly"] as? Bool == true)
            #expect(try await client.call(.get, "/api/subscription/me", token: token).status == .ok)
            #expect(try await client.call(.get, "/api/subscription/me", token: token).status == .tooManyRequests)
        }
    }
}
