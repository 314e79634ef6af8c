#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotDomain
import Testing

/// deploy/install.sh and the units under a real systemd, in a namespace that leaves the machine untouched.
/// One boot serves every check, in order, because booting and installing is the slow part.
@Suite(.serialized, .timeLimit(.minutes(8)), .enabled(if: SystemdNamespace.isSupported, "needs root, systemd, unshare and nsenter"))
struct SystemdDeploymentTests {
    static let daemons = ["mindsetd", "routerd", "arsenald", "gateway"]

    @Test("install, start, restart one daemon, watchdog, kill -9, stop, and stranger peers, under systemd")
    func deployment() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let harness = repo + "/.build/systemd-tests/\(getpid())"
        let ns = try SystemdNamespace(directory: harness, keepVisible: [repo, TestSystem.binaries] + (TestSystem.sharedData.map { [$0] } ?? []))
        defer { try? FileManager.default.removeItem(atPath: harness) }
        do {
            try await ns.waitUntilBooted()
            try await exercise(ns, repo: repo)
        } catch {
            await ns.poweroff()
            throw error
        }
        await ns.poweroff()
    }

    private func exercise(_ ns: SystemdNamespace, repo: String) async throws {
        let data = TestSystem.sharedData.map { "--data-dir \($0)" } ?? ""
        let install = ns.run("cd \(repo) && deploy/install.sh --build-dir \(TestSystem.binaries) \(data)")
        try #require(install.status == 0, "install.sh failed:\n\(install.output)")
        #expect(install.output.contains("created user bagbot"))
        #expect(ns.run("id -gn bagbot").output.contains("bagbot"))
        #expect(ns.run("test -f /etc/systemd/system/bagbot.target").status == 0)

        // An edited config survives a second install, which changes nothing.
        ns.run("sed -i 's/speed: \"1\"/speed: \"300\"/' /etc/bagbot/bagbot.yaml")
        // Faster than real time: mindsetd's clock check is opened up as `bagbot up --speed` does (docs/mindset.md).
        ns.run("printf 'mindset:\\n  max_clock_skew_seconds: 315360000\\n' >> /etc/bagbot/bagbot.yaml")
        // Fees of 1 bp a side under router (at the live rates, the default, the strategies barely trade the files).
        ns.run("sed -i 's/^  mode: paper$/  mode: paper\\n  paper:\\n    fee_bps: 1/' /etc/bagbot/bagbot.yaml")
        let again = ns.run("cd \(repo) && deploy/install.sh --build-dir \(TestSystem.binaries) \(data)")
        #expect(again.status == 0)
        #expect(again.output.contains("nothing to change"), "second install: \(again.output)")
        #expect(ns.run("grep -c 'speed: \"300\"' /etc/bagbot/bagbot.yaml").output.hasPrefix("1"))

        // Start: every unit active only after READY, with a STATUS= line.
        let start = ns.run("systemctl start bagbot.target")
        try #require(start.status == 0, "start failed: \(start.output)\n\(journal(ns))")
        for daemon in Self.daemons {
            let unit = "bagbot-\(daemon).service"
            #expect(ns.property(unit, "ActiveState") == "active", "\(unit): \(ns.run("systemctl status \(unit) --no-pager").output)")
            #expect(ns.property(unit, "SubState") == "running")
            #expect(!ns.property(unit, "StatusText").isEmpty, "\(unit) has a STATUS= line")
        }
        #expect(ns.run("systemctl status bagbot-routerd --no-pager").output.contains("Status: \""))
        let health = ns.run("exec 3<>/dev/tcp/127.0.0.1/8080; printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' >&3; cat <&3", timeout: 10)
        #expect(health.output.contains("\"services\""), "healthz: \(health.output)")

        try await waitFor("paper orders from the replay", ns) { try orders(ns).count >= 1 }

        // The first admin token arrives through LoadCredential=. Some nested container set-ups cannot
        // materialise credentials at all (even SetCredential=); there the check is reported, not failed.
        let probe = ns.run("systemd-run -q -p SetCredential=probe:ok --wait --pipe /bin/sh -c 'cat \"$CREDENTIALS_DIRECTORY/probe\"'")
        let gatewayJournal = { ns.run("journalctl -u bagbot-gateway --no-pager").output }
        if probe.output.contains("ok") {
            #expect(gatewayJournal().contains("first admin token stored"))
            // Once the gateway is ready and has stored it, the plaintext is erased from the credential's source
            // (ExecStartPost=), and said so; the empty file stays for LoadCredential=.
            #expect(ns.run("test -e /etc/bagbot/credentials/admin-token && test ! -s /etc/bagbot/credentials/admin-token").status == 0)
            #expect(gatewayJournal().contains("its plaintext is erased from /etc/bagbot/credentials/admin-token"))
        } else {
            print("note: this systemd cannot deliver credentials in its namespace; LoadCredential= not exercised")
            // The gateway never saw the token, so nothing stored it: its plaintext must stay, or no admin is left.
            #expect(ns.run("test -s /etc/bagbot/credentials/admin-token").status == 0)
            #expect(ns.run("test ! -e /run/bagbot/admin-token.stored").status == 0)
            #expect(gatewayJournal().contains("is not stored (see the gateway log above); its plaintext stays there"))
        }

        // Restart routerd alone: the others keep their MainPID, trading resumes, nothing duplicated or lost.
        let others = ["mindsetd", "arsenald", "gateway"]
        let pidsBefore = others.map { ns.property("bagbot-\($0).service", "MainPID") }
        let ordersBefore = try orders(ns)
        #expect(ns.run("systemctl restart bagbot-routerd").status == 0)
        #expect(others.map { ns.property("bagbot-\($0).service", "MainPID") } == pidsBefore)
        #expect(ns.run("test -S /run/bagbot/mindsetd.sock && test -S /run/bagbot/arsenald.sock").status == 0,
                "restarting routerd kept the other daemons' sockets")
        try await waitFor("arsenald to reconnect to routerd", ns) {
            daemonHealth(ns, "arsenald")?.peers["routerd"] == "connected"
        }
        try await waitFor("orders after the restart", ns) { try orders(ns).count > ordersBefore.count }
        let ordersAfter = try orders(ns)
        #expect(Set(ordersAfter).count == ordersAfter.count, "no order duplicated")
        #expect(Set(ordersBefore).isSubset(of: Set(ordersAfter)), "no order lost")
        #expect(ns.run("journalctl -u bagbot-arsenald -p warning --no-pager").output.contains("lost connection"),
                "warnings reach the journal with their priority")
        #expect(!ns.run("journalctl -u bagbot-arsenald -p warning --no-pager").output.contains("listening"),
                "info lines are not warnings")

        // A stopped process misses its watchdog pings: systemd kills and restarts it.
        let stoppedPID = ns.property("bagbot-mindsetd.service", "MainPID")
        ns.run("kill -STOP \(stoppedPID)")
        try await waitFor("the watchdog to restart mindsetd", ns, timeout: .seconds(60)) {
            let pid = ns.property("bagbot-mindsetd.service", "MainPID")
            return pid != stoppedPID && pid != "0" && ns.property("bagbot-mindsetd.service", "ActiveState") == "active"
        }
        #expect(ns.run("journalctl -u bagbot-mindsetd --no-pager").output.lowercased().contains("watchdog"))

        // kill -9 of any daemon: restarted.
        for daemon in Self.daemons {
            let unit = "bagbot-\(daemon).service"
            let pid = ns.property(unit, "MainPID")
            ns.run("kill -9 \(pid)")
            try await waitFor("\(daemon) to be restarted after kill -9", ns) {
                let now = ns.property(unit, "MainPID")
                return now != pid && now != "0" && ns.property(unit, "ActiveState") == "active"
            }
        }
        let afterKills = try orders(ns).count
        try await waitFor("the system to trade again", ns, timeout: .seconds(120)) { try orders(ns).count > afterKills }

        // A peer with another uid is refused.
        let stranger = ns.run("setpriv --reuid=65534 --regid=65534 --clear-groups /usr/local/bin/bagbot call --socket /run/bagbot/routerd.sock health")
        #expect(stranger.status != 0, "a stranger reached routerd: \(stranger.output)")
        #expect(ns.property("bagbot-routerd.service", "ActiveState") == "active")

        // Stop: all four stop cleanly.
        #expect(ns.run("systemctl stop bagbot.target").status == 0)
        // Stops reached through PartOf= may still be finishing when systemctl returns.
        try await waitFor("all four units to be inactive", ns, timeout: .seconds(40)) {
            Self.daemons.allSatisfy { ns.property("bagbot-\($0).service", "ActiveState") == "inactive" }
        }
        for daemon in Self.daemons {
            let unit = "bagbot-\(daemon).service"
            #expect(ns.property(unit, "Result") == "success", "\(unit) result: \(ns.property(unit, "Result"))")
            #expect(ns.property(unit, "ExecMainStatus") == "0")
        }
        #expect(ns.run("test -f /var/lib/bagbot/state/mindset_state.json").status == 0, "state flushed to disk")

        // Uninstall keeps the data unless asked.
        let uninstall = ns.run("cd \(repo) && deploy/uninstall.sh")
        #expect(uninstall.status == 0, "uninstall: \(uninstall.output)")
        #expect(ns.run("test -e /usr/local/bin/routerd").status != 0)
        #expect(ns.run("test -f /var/lib/bagbot/bagbot.db").status == 0)
    }

    private func orders(_ ns: SystemdNamespace) throws -> [String] {
        let result = ns.run("/usr/local/bin/bagbot call --socket /run/bagbot/routerd.sock router.orders '{\"limit\":1000}'")
        guard result.status == 0 else { throw SystemdTestFailure("router.orders: \(result.output)") }
        struct Listing: Decodable { struct Order: Decodable { let clientOrderId: String }; let orders: [Order] }
        return try JSONDecoder().decode(Listing.self, from: Data(result.output.utf8)).orders.map(\.clientOrderId)
    }

    private func daemonHealth(_ ns: SystemdNamespace, _ daemon: String) -> HealthReport? {
        let result = ns.run("/usr/local/bin/bagbot call --socket /run/bagbot/\(daemon).sock health")
        return try? JSONDecoder().decode(HealthReport.self, from: Data(result.output.utf8))
    }

    private func journal(_ ns: SystemdNamespace) -> String {
        ns.run("journalctl -u 'bagbot-*' --no-pager -n 80").output
    }

    private func waitFor(_ what: String, _ ns: SystemdNamespace, timeout: Duration = .seconds(90), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(300))
        }
        throw SystemdTestFailure("timed out waiting for \(what)\n\(journal(ns))")
    }
}
