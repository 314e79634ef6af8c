import Foundation
import BagbotTestSupport
import Testing

/// The dashboard in Debian's headless Chromium against the whole system started by `bagbot up`
/// (Tests/Peers/dashboard_browser.py): log in, a fill appearing live, a strategy disabled and its entries stopping on
/// the Signals page (its exits go on), trading paused and resumed, a filter starting at the first page, a Free token's
/// controls disabled with the reason, a bad token refused, a phone's width, the first paint of the login form and of
/// the logged-in overview (logged). Screenshots of every page go to `.build/dashboard-screenshots` (not committed).
@Suite("The dashboard in a browser", .serialized)
struct DashboardBrowserTests {
    static var chromedriver: String {
        get throws {
            if let configured = ProcessInfo.processInfo.environment["BAGBOT_CHROMEDRIVER"], !configured.isEmpty { return configured }
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
                throw TestFailure("chromedriver is not installed: run scripts/setup-browser (scripts/test does)")
            }
            return "/usr/bin/chromedriver"
        }
    }

    @Test("against bagbot up: log in, see a fill live, disable a strategy, pause and resume, a Free token's controls disabled, a bad token refused")
    func dashboard() async throws {
        let chromedriver = try Self.chromedriver
        let screenshots = SharedData.repository + "/.build/dashboard-screenshots"
        try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
        let directory = try TempDir()
        defer { directory.remove() }
        let port = try TestSystem.freePort()
        // As a trader runs it. The manual order that shows a fill live is an entry: a strategy's losing trade just
        // before must not put it under the revenge guard's cooldown (a loaded run had it blocked).
        let up = try BagbotUpRun(root: directory.path, port: port, [
            "--speed", "200", "--set", "mindset.revenge_cooldown_seconds=0", "--set", "mindset.revenge_window_seconds=0",
        ])
        defer { up.stop() }
        let admin = try await Self.waitFor("bagbot up to print the first admin token", up) { up.printedAdminToken }
        _ = try await Self.waitFor("every daemon up behind the gateway", up) {
            (try? await TestSystem.httpGet(port: port, path: "/healthz"))?.status == 200 ? true : nil
        }
        let run = try await TestPeers.run("dashboard_browser.py", [
            "--url", "http://127.0.0.1:\(port)", "--admin", admin, "--chromedriver", chromedriver,
            "--screenshots", screenshots, "--strategy", "micro_trend",
        ], timeout: .seconds(300))
        print(run.output)
        #expect(run.status == 0, "\(run.output.suffix(3_000))\n--- bagbot up\n\(up.log.suffix(3_000))")
        #expect(run.output.contains("all checks passed"))
    }

    /// Polls (every 200 ms, 90 s at most) until `value` gives something; the failure shows `bagbot up`'s output.
    private static func waitFor<T>(_ what: String, _ up: BagbotUpRun, _ value: () async -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let found = await value() { return found }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("timed out waiting for \(what)\n--- bagbot up\n\(up.log.suffix(3_000))")
    }

    @Test("without its files the dashboard's paths answer 404 in JSON, and the API is untouched")
    func notInstalled() async throws {
        try await TestSystem.with(extraConfig: "gateway:\n  dashboard_dir: /nonexistent/dashboard\n") { system in
            try system.start()
            try await system.waitUntil("the gateway to answer", timeout: .seconds(60)) { (try? await system.get("/healthz")) != nil }
            let root = try await system.get("/")
            #expect(root.status == 404)
            #expect(String(decoding: root.body, as: UTF8.self).contains("dashboard_not_installed"))
            #expect(try await system.get("/openapi.json").status == 200)
        }
    }
}
