import BagbotTestSupport
import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("v11-router-order-path-pages: the same rows in tables that touch fewer pages per order")
struct OrderPathPagesMigrationTests {
    static let time = "2026-01-02 03:04:05.678"

    /// A file as the previous release left it (up to v10), with orders, their events, fills and paper orders.
    func previousRelease(_ dir: TempDir) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: dir.file("bagbot.db"))
        try BagbotDatabase.migrator.migrate(queue, upTo: "v10-router-equity-samples")
        try queue.write { db in
            for (id, status) in [("a", "filled"), ("b", "acknowledged"), ("c", "rejected")] {
                try db.execute(sql: """
                    INSERT INTO orders (client_order_id, venue, symbol, side, type, quantity, status, filled_quantity, created_at, updated_at)
                    VALUES (?, 'paper', 'BTCUSDT', 'buy', 'market', '0.5', ?, '0', ?, ?)
                    """, arguments: [id, status, Self.time, Self.time])
                try db.execute(sql: """
                    INSERT INTO paper_orders (client_order_id, symbol, side, type, quantity, status, filled_quantity, created_at, updated_at)
                    VALUES (?, 'BTCUSDT', 'buy', 'market', '0.5', ?, '0', ?, ?)
                    """, arguments: [id, status, Self.time, Self.time])
            }
            for (status, order) in [("pending_new", "a"), ("sent", "a"), ("filled", "a"), ("pending_new", "b")] {
                try db.execute(sql: "INSERT INTO order_events (client_order_id, status, reason, time) VALUES (?, ?, 'why', ?)",
                               arguments: [order, status, Self.time])
            }
            // The last event deleted, as nothing does: AUTOINCREMENT would not give its id again.
            try db.execute(sql: "DELETE FROM order_events WHERE id = 4")
            for (fill, sequence, commission) in [("f1", 1, nil), ("f2", 5, "0.0001")] as [(String, Int, String?)] {
                try db.execute(sql: """
                    INSERT INTO fills (fill_id, sequence, client_order_id, venue, symbol, side, quantity, price, fee, time, base_commission)
                    VALUES (?, ?, 'a', 'paper', 'BTCUSDT', 'buy', '0.25', '100.5', '0.01', ?, ?)
                    """, arguments: [fill, sequence, Self.time, commission])
            }
        }
        return queue
    }

    @Test("every row and value kept; ids and sequences kept; the keys and indexes are the new ones")
    func keepsRows() throws {
        let dir = try TempDir()
        let queue = try previousRelease(dir)
        let before = try queue.read { db in
            try ["order_events", "fills", "paper_orders", "orders"].map { try Row.fetchAll(db, sql: "SELECT * FROM \($0) ORDER BY 1") }
        }
        try BagbotDatabase.migrator.migrate(queue)
        try queue.read { db in
            let after = try ["order_events", "fills", "paper_orders", "orders"].map { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { row in
                    // Compared by name: the rebuilt tables may order their columns differently.
                    Row(Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, row[$0] as DatabaseValue) }))
                }
            }
            for (old, new) in zip(before, after) {
                #expect(old.count == new.count)
                for (o, n) in zip(old, new) {
                    for column in o.columnNames { #expect(o[column] as DatabaseValue == n[column] as DatabaseValue, "\(column)") }
                }
            }
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let eventsSQL = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'order_events'") ?? ""
            #expect(!eventsSQL.uppercased().contains("AUTOINCREMENT"))
            #expect(try db.primaryKey("fills").rowIDColumn == "sequence")
            #expect(try db.primaryKey("order_events").rowIDColumn == "id")
            #expect(try db.indexes(on: "fills").contains { $0.isUnique && $0.columns == ["fill_id"] })
            #expect(try db.indexes(on: "fills").contains { $0.name == "fills_by_order" })
            #expect(try db.indexes(on: "order_events").contains { $0.name == "order_events_by_order" })
            #expect(try db.indexes(on: "paper_orders").map(\.name).contains("paper_orders_working"))
            #expect(try !db.indexes(on: "paper_orders").map(\.name).contains("paper_orders_by_status"))
        }
        try queue.write { db in
            // A fill id stays unique; a new event takes the largest id plus one.
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: """
                    INSERT INTO fills (fill_id, sequence, client_order_id, venue, symbol, side, quantity, price, fee, time)
                    VALUES ('f1', 9, 'a', 'paper', 'BTCUSDT', 'buy', '1', '1', '0', ?)
                    """, arguments: [Self.time])
            }
            try db.execute(sql: "INSERT INTO order_events (client_order_id, status, time) VALUES ('c', 'rejected', ?)", arguments: [Self.time])
            #expect(try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM order_events") == 4)
        }
    }
}
