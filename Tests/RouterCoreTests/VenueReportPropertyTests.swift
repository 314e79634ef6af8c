import Foundation
import BagbotDomain
import BagbotTestSupport
import GRDB
import Testing
@testable import RouterCore

/// Seeded random venue reports, true and untrue, of a few working orders, through routerd's record: whatever a
/// venue says, the record keeps every fill positive and priced with a fee within a fifth of its value, never more
/// filled or fills than an order's quantity, and never loses what it has.
@Suite("venue reports, random")
struct VenueReportPropertyTests {
    struct Snapshot: Equatable {
        var filled: [String: ExactDecimal]
        var fillIds: Set<String>
    }

    func snapshot(_ fixture: RouterFixture, orders: [String: ExactDecimal]) throws -> Snapshot {
        try fixture.database.read { db in
            var filled: [String: ExactDecimal] = [:]
            for id in orders.keys {
                filled[id] = ExactDecimal(try String.fetchOne(db, sql: "SELECT filled_quantity FROM orders WHERE client_order_id = ?",
                                                              arguments: [id]) ?? "")
            }
            var ids = Set<String>()
            var sums: [String: ExactDecimal] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT fill_id, client_order_id, quantity, price, fee, base_commission, side FROM fills") {
                let fillId: String = row["fill_id"]
                let order: String = row["client_order_id"]
                let quantity = try #require(ExactDecimal(row["quantity"] as String))
                let price = try #require(ExactDecimal(row["price"] as String))
                #expect(quantity.isPositive && price.isPositive, "fill \(fillId): \(quantity) at \(price)")
                let fee = try #require(ExactDecimal(row["fee"] as String))
                let fifth = try quantity.multiplied(by: price, scale: 16, rounding: .halfEven).multiplied(by: 0.2, scale: 16, rounding: .up)
                let negated = try ExactDecimal.zero - fee
                #expect(fee <= fifth && negated <= fifth, "fill \(fillId): a fee of \(fee)")
                if let base = (row["base_commission"] as String?).flatMap(ExactDecimal.init) {
                    #expect(!base.isNegative && ((row["side"] as String) == "sell" || base < quantity), "fill \(fillId): commission \(base)")
                }
                #expect(ids.insert(fillId).inserted)
                sums[order] = try (sums[order] ?? .zero) + quantity
            }
            for (id, quantity) in orders {
                #expect(sums[id] ?? .zero <= quantity, "order \(id): fills of \(String(describing: sums[id])) for \(quantity)")
                let recorded = try #require(filled[id] ?? nil)
                #expect(!recorded.isNegative && recorded <= quantity, "order \(id): \(recorded) filled of \(quantity)")
            }
            return Snapshot(filled: filled.compactMapValues { $0 }, fillIds: ids)
        }
    }

    @Test("no sequence of venue reports, true or not, records a fill of no quantity or price, or past an order, or drops one", arguments: [1, 2, 3, 4])
    func reportsKeepTheRecordTrue(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        /// Mostly one of `likely` (values a venue sends), one time in eight one of `unlikely` (values none can).
        func mostly<T>(_ likely: [T], else unlikely: [T]) -> T { random.next() % 8 == 0 ? pick(unlikely) : pick(likely) }
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance)
        let service = try await fixture.service(venues: [binance], reconciliation: ReconciliationSettings(lookupInterval: .milliseconds(10)),
                                                paperTrading: false)
        await binance.set(.rest)
        var orders: [String: ExactDecimal] = [:]
        for (index, side) in [Side.buy, .sell, .buy].enumerated() {
            let id = "bb-p\(index)"
            _ = try await service.place(request(id, "BTCUSDT", side, 1, type: .limit, limit: 90, strategy: nil))
            orders[id] = 1
        }
        let quantities: [ExactDecimal] = ["-0.5", "0", "0.1", "0.25", "0.3", "0.5", "1", "1.5"].map { ExactDecimal($0)! }
        let prices: [ExactDecimal] = ["-90", "0", "0.00000001", "90", "91.5"].map { ExactDecimal($0)! }
        let statuses: [OrderStatus] = [.acknowledged, .partiallyFilled, .filled, .cancelled, .expired, .rejected]
        var before = try snapshot(fixture, orders: orders)
        for step in 0..<250 {
            let order = pick(Array(orders.keys.sorted()))
            let fills = (0..<Int(random.next() % 4)).map { _ in
                VenueFill(fillId: mostly(["t-1", "t-2", "t-3", "t-4", "t-5", "t-6"], else: [""]), clientOrderId: mostly([order], else: ["bb-other"]),
                          symbol: "BTCUSDT", side: .buy, quantity: mostly(Array(quantities[2...]), else: Array(quantities[..<2])),
                          price: mostly(Array(prices[2...]), else: Array(prices[..<2])),
                          fee: ExactDecimal(mostly(["0", "0.001", "-0.0001", "0.01"], else: ["5", "-5", "1000"]))!,
                          baseCommission: mostly([nil, ExactDecimal("0.001")], else: [ExactDecimal("-0.001"), ExactDecimal("1")]), time: Date())
            }
            let report = VenueOrderReport(clientOrderId: order, exchangeOrderId: "x-\(order)", status: pick(statuses),
                                          filledQuantity: mostly(Array(quantities[1...]), else: Array(quantities[..<1])),
                                          averagePrice: mostly([nil, ExactDecimal("90")], else: [ExactDecimal("0")]), fills: fills, time: Date())
            await service.handle(.order(report), from: .binance)
            if step % 25 == 24 { await service.settleUnsettled() }
            let after = try snapshot(fixture, orders: orders)
            #expect(after.fillIds.isSuperset(of: before.fillIds), "step \(step): a fill was dropped")
            for (id, filled) in before.filled {
                #expect((after.filled[id] ?? .zero) >= filled, "step \(step): order \(id) went back from \(filled)")
            }
            before = after
        }
        // Not a test of refusals alone: true reports among them were recorded.
        #expect(before.fillIds.count >= 3 && before.filled.values.contains { $0.isPositive }, "\(before)")
    }
}
