import Foundation
import BagbotTestSupport
import Testing

/// The open positions' measure of the day's P&L across the real daemons: routerd's `router.account.marks` reach
/// mindsetd, which values its own record of the positions at them (docs/mindset.md, "Loss limits on equity").
@Suite("the open positions' measure of the day, end to end")
struct OpenPositionsMeasureTests {
    @Test("after a manual buy on paper, mindsetd's open positions' change equals the equity's change from the same account")
    func measureFollowsTheAccount() async throws {
        let noStrategies = TestSystem.strategiesOff
        try await TestSystem.with(extraConfig: noStrategies) { system in
            try system.start()
            let admin = system.adminToken.trimmingCharacters(in: .whitespacesAndNewlines)
            let placed = try await system.placeOrderOnceUp(token: admin, json: #"{"symbol":"BTCUSDT","side":"buy","quantity":"0.01"}"#, key: "open")
            try #require(placed.status == 201, "\(String(decoding: placed.body, as: UTF8.self))")
            // On paper the account holds cash and this position only: its move is the equity's move. Both figures come
            // from one reading of the account (the measure waits while a fill is newer than the marks).
            var seen: [String: Any] = [:]
            try await waitFor("the open positions' measure beside the equity", timeout: .seconds(30), every: .milliseconds(200)) {
                let answer = try await system.get("/api/mindset", token: admin)
                seen = (try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:]
                return seen["openPositionsChange"] is String && seen["startOfDayEquity"] is String && seen["equity"] is String
            }
            let change = try #require(Decimal(string: seen["openPositionsChange"] as? String ?? ""))
            let equity = try #require(Decimal(string: seen["equity"] as? String ?? ""))
            let start = try #require(Decimal(string: seen["startOfDayEquity"] as? String ?? ""))
            #expect(change == equity - start, "\(seen)")
            #expect((seen["positionsLeftOut"] as? [String]) == [])
        }
    }
}
