import Foundation
import GRDB
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("The paper venue's working orders")
struct PaperWorkingOrdersTests {
    @Test("are read through their partial index, which holds no order that filled or was refused at once")
    func partialIndex() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        _ = try await service.place(request("bb-filled"))
        _ = try await service.place(request("bb-resting", type: .limit, limit: 90))
        _ = try await service.place(request("bb-partial", type: .limit, limit: 91))
        try await fixture.database.write { db in
            try db.execute(sql: "UPDATE paper_orders SET status = 'partially_filled' WHERE client_order_id = 'bb-partial'")
        }
        let working = try await PaperVenueStore(database: fixture.database).workingOrders()
        #expect(working.map(\.clientOrderId) == ["bb-resting", "bb-partial"])
        try await fixture.database.read { db in
            let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + PaperVenueStore.selectWorking).map { $0["detail"] as String }
            #expect(plan.contains { $0.contains("paper_orders_working") }, "\(plan)")
            let indexed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM paper_orders INDEXED BY paper_orders_working WHERE status IN ('acknowledged', 'partially_filled')")
            #expect(indexed == 2)
        }
    }
}
