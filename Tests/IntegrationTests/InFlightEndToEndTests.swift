import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import GRDB
import Testing

/// Issue 12's hole "in flight means one order, not one symbol", through the real daemons: the late confirmation
/// of an older order must not free a symbol that a newer order holds. Manual orders (`arsenal.placeManualOrder`)
/// make the orders; SIGSTOP makes the calls time out: routerd stopped, an order's send times out and arsenald
/// confirms it by looking it up 5 s later (`arsenal.confirm_interval_ms`); mindsetd stopped, a newer order waits for
/// its decision meanwhile.
extension TradePathTests {
    /// EUR/USD quotes a second apart around 1.1000 (HistData, EST), a pip of spread: a price to trade at, and
    /// nothing a strategy would act on.
    static func quietEURUSD(in directory: TempDir, seconds: Int = 1_200) throws -> String {
        let rows = (0..<seconds).map { index -> String in
            let mid = index % 2 == 0 ? 1.10000 : 1.10002
            return String(format: "20200101 %02d%02d%02d000,%.5f,%.5f,0", 17 + index / 3_600, index / 60 % 60, index % 60,
                          mid - 0.00005, mid + 0.00005)
        }
        return try directory.write("eurusd-quiet.csv", rows.joined(separator: "\n") + "\n")
    }

    /// The daemons' calls time out after 12 s: a newer order's wait for a stopped mindsetd then spans the older order's
    /// confirmation, which arsenald looks up 5 s after its send timed out, with room for the polls on a loaded machine
    /// (at 4 s, and once in a clean-clone CI run at 8 s, the wait ended before the probe of C, which then rightly went
    /// out). The 5 s leave the older
    /// order's fill and the newer order's start seconds to happen before that look-up, even with the whole suite
    /// on the machine (with 2 s, a fill that took 1.5 s failed the run). routerd is stopped for the 12 s and the
    /// test's own reaction to the answer: its last tick must not be too old to fill at then (the paper venue's
    /// 10 s had the older order rejected as stale in a loaded run).
    static var slowCallsNoStrategies: String {
        """
        ipc:
          request_timeout_ms: 12000
        router:
          paper:
            max_tick_age_seconds: 60
        arsenal:
          confirm_interval_ms: 5000
          micro_trend:
            enabled: false
          mean_reversion:
            enabled: false

        """ + resetFarAhead
    }

    static func manualBuy(_ system: TestSystem) async throws -> ManualOrderResult {
        try await system.call("arsenald", Methods.arsenalPlaceManualOrder,
                              ManualOrderRequest(symbol: "EURUSD", side: .buy, quantity: 1_000), as: ManualOrderResult.self,
                              timeout: .seconds(20))
    }

    static func counter(_ system: TestSystem, _ name: String) async -> Int {
        Int(await system.health("arsenald")?.details[name] ?? "") ?? 0
    }

    /// Polls every 20 ms (the steps below have seconds to spare, not minutes); throws after `limit`.
    static func poll(_ system: TestSystem, _ what: String, within limit: Duration, _ condition: () async throws -> Bool) async throws {
        try await system.waitUntil(what, timeout: limit, every: .milliseconds(20), condition)
    }

    @Test("a late confirmation of an older order does not free the symbol while a newer order is unsettled")
    func lateConfirmationKeepsNewerOrderInFlight() async throws {
        let data = try TempDir()
        defer { data.remove() }
        let file = try Self.quietEURUSD(in: data)
        try await TestSystem.with(speed: "20", files: [file], extraConfig: Self.slowCallsNoStrategies) { system in
            // Whatever happens, no daemon is left stopped (a stopped one would not hear the shutdown's SIGTERM).
            defer {
                system.signal("routerd", SIGCONT)
                system.signal("mindsetd", SIGCONT)
            }
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("arsenald to see EURUSD and mindsetd to read routerd", timeout: .seconds(30)) {
                guard let mindsetd = await system.health("mindsetd"), mindsetd.peers["routerd"] == "connected" else { return false }
                return await Self.counter(system, "ticks") >= 1
            }
            // A: approved, then sent to a stopped routerd; its send times out (outcome unknown), and arsenald will
            // look it up 2 s later. mindsetd reads routerd's fill log and account every second and judges A from
            // that read without asking routerd; a read that was under way when routerd stopped makes it miss its
            // answer instead (blocked, nothing sent): then routerd is woken and A tried again.
            var older: ManualOrderResult?
            for _ in 0..<3 where older?.outcome != .unknown {
                try await Task.sleep(for: .seconds(1.5))
                system.signal("routerd", SIGSTOP)
                older = try await Self.manualBuy(system)
                system.signal("routerd", SIGCONT)
            }
            let sent = try #require(older)
            try #require(sent.outcome == .unknown, "the older order's send was to time out: \(sent)")
            let olderId = "bb-\(sent.signal.requestId)"
            // routerd wakes and fills it; its events free the symbol before the lookup.
            try await Self.poll(system, "the older order's fill and events", within: .seconds(3)) {
                let fills = await Self.counter(system, "fills")
                return try system.count("SELECT COUNT(*) FROM orders WHERE client_order_id = '\(olderId)' AND status = 'filled'") == 1 && fills >= 1
            }
            try await Task.sleep(for: .milliseconds(100))

            // B: the newer order takes the symbol and waits for a stopped mindsetd (up to 12 s), across A's lookup.
            let signalsBefore = await Self.counter(system, "signals")
            system.signal("mindsetd", SIGSTOP)
            let newer = Task { try await Self.manualBuy(system) }
            try await Self.poll(system, "the newer order to hold the symbol", within: .seconds(2)) {
                await Self.counter(system, "signals") > signalsBefore
            }
            // Its confirmation wakes with the newer order holding the symbol, and leaves it to the newer order. Due about
            // 5 s after A's send timed out, so 2–5 s from here; 8 s for a loaded machine (once 6 s ran out in a full
            // suite while the host was slow), still 4 s inside B's 12 s wait, which the probe of C needs.
            try await Self.poll(system, "the older order's late confirmation", within: .seconds(8)) {
                system.log("arsenald").split(separator: "\n").contains { $0.contains("no longer holds its symbol") && $0.contains(olderId) }
            }

            // C: the newer order is still unsettled, so the symbol is still busy: refused at once. Were it let
            // through, mindsetd (woken while both wait) would approve both, and two orders would go out.
            let probe = Task { try await Self.manualBuy(system) }
            try await Task.sleep(for: .milliseconds(500))
            system.signal("mindsetd", SIGCONT)
            let third = await probe.result
            let second = try await newer.value

            switch third {
            case .success(let result):
                Issue.record("a third order went out while the newer one was unsettled: \(result.outcome) \(result.reason ?? "")")
            case .failure(let error):
                let refusal = try #require(error as? IPCError)
                #expect(refusal.code == .conflict, "\(refusal)")
                #expect(refusal.message.contains("bb-\(second.signal.requestId)"), "refused for the newer order: \(refusal.message)")
            }
            // The newer order itself went its way once mindsetd was back (approved, or blocked by its time-out).
            #expect([ManualOrderResult.Outcome.placed, .blocked].contains(second.outcome), "\(second)")
            try await Task.sleep(for: .milliseconds(500))
            let placed = try system.orders().map(\.clientOrderId)
            #expect(Set(placed).isSubset(of: [olderId, "bb-\(second.signal.requestId)"]), "no third order: \(placed)")
            // Its own end freed the symbol: the next order goes out.
            let next = try await Self.manualBuy(system)
            #expect(next.outcome == .placed, "\(next)")
        }
    }
}
