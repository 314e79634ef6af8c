import BagbotDomain
import BagbotTestSupport
import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("v2-exact-money: money columns become exact decimal text")
struct ExactMoneyMigrationTests {
    /// A file as the previous release left it: migrated up to v1, with REAL money.
    func legacyDatabase(_ dir: TempDir, rows: (Database) throws -> Void) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: dir.file("bagbot.db"))
        try BagbotDatabase.migrator.migrate(queue, upTo: "v1-router")
        try queue.write(rows)
        return queue
    }

    static let time = "2026-01-02 03:04:05.678"

    func insertLegacyOrder(_ db: Database, id: String, quantity: Double, average: Double?) throws {
        try db.execute(sql: """
            INSERT INTO orders (client_order_id, venue, symbol, side, type, quantity, limit_price, status, filled_quantity,
                                average_fill_price, created_at, updated_at)
            VALUES (?, 'paper', 'BTCUSDT', 'buy', 'market', ?, NULL, 'filled', ?, ?, ?, ?)
            """, arguments: [id, quantity, quantity, average, Self.time, Self.time])
    }

    @Test("REAL values keep their shortest digits, fills keep their place in the log, the paper book keeps its cost")
    func convertsLegacyRows() throws {
        let dir = try TempDir()
        let queue = try legacyDatabase(dir) { db in
            try insertLegacyOrder(db, id: "a", quantity: 0.1, average: 9549.760880375949)
            try insertLegacyOrder(db, id: "b", quantity: 0.30000000000000004, average: nil)
            for (fill, order, quantity) in [("f1", "a", 0.1), ("f2", "b", 0.30000000000000004)] {
                try db.execute(sql: """
                    INSERT INTO fills (fill_id, client_order_id, venue, symbol, side, quantity, price, fee, time)
                    VALUES (?, ?, 'paper', 'BTCUSDT', 'buy', ?, 100.5, 0.00001005, ?)
                    """, arguments: [fill, order, quantity, Self.time])
            }
            try db.execute(sql: "INSERT INTO paper_accounts (currency, cash, fees_paid) VALUES ('USD', 99949.42422475, 0.05)")
            try db.execute(sql: "INSERT INTO paper_positions (symbol, quantity, average_price, realized_pnl, last_price) VALUES ('BTCUSDT', -0.4, 100.5, 1e-8, NULL)")
        }
        try BagbotDatabase.migrator.migrate(queue, upTo: "v2-exact-money")
        try queue.read { (db: Database) throws in
            let orders = try Row.fetchAll(db, sql: "SELECT client_order_id, quantity, average_fill_price, typeof(quantity) AS kind FROM orders ORDER BY client_order_id")
            #expect(orders.map { $0["quantity"] as String } == ["0.1", "0.30000000000000004"])
            #expect(orders.map { $0["kind"] as String } == ["text", "text"])
            #expect(orders[0]["average_fill_price"] as String? == "9549.760880375949")
            #expect(orders[1]["average_fill_price"] as String? == nil)
            let fills = try Row.fetchAll(db, sql: "SELECT fill_id, sequence, fee FROM fills ORDER BY sequence")
            #expect(fills.map { $0["fill_id"] as String } == ["f1", "f2"])
            #expect(fills.map { $0["sequence"] as Int64 } == [1, 2])
            #expect(fills.map { $0["fee"] as String } == ["0.00001005", "0.00001005"])
            #expect(try String.fetchOne(db, sql: "SELECT cash FROM paper_accounts") == "99949.42422475")
            let position = try #require(try Row.fetchOne(db, sql: "SELECT * FROM paper_positions"))
            #expect(position["cost"] as String == "40.20", "cost = |quantity| × average price")
            #expect(position["realized_pnl"] as String == "0.00000001")
            #expect(try String.fetchOne(db, sql: "SELECT id FROM database_identity")?.count == 36)
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
        }
    }

    @Test("a stored value no exact decimal holds stops the migration, names the row, and changes nothing")
    func refusesWhatItCannotConvert() throws {
        let dir = try TempDir()
        let queue = try legacyDatabase(dir) { db in
            try insertLegacyOrder(db, id: "ok", quantity: 1, average: 100)
            try insertLegacyOrder(db, id: "huge", quantity: 1e30, average: 100)
        }
        #expect(throws: (any Error).self) { try BagbotDatabase.migrator.migrate(queue) }
        do {
            try BagbotDatabase.migrator.migrate(queue)
        } catch {
            #expect("\(error)".contains("orders.quantity row 2"))
        }
        try queue.read { (db: Database) throws in
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") == ["v1-gateway", "v1-router"])
            #expect(try String.fetchOne(db, sql: "SELECT typeof(quantity) FROM orders WHERE client_order_id = 'huge'") == "real")
        }
    }

    @Test("each new file gets an identity of its own")
    func identityPerFile() throws {
        let first = try TempDir()
        let second = try TempDir()
        let a = try BagbotDatabase.open(path: first.file("bagbot.db"))
        let b = try BagbotDatabase.open(path: second.file("bagbot.db"))
        let idA = try a.read { try String.fetchOne($0, sql: "SELECT id FROM database_identity") }
        let idB = try b.read { try String.fetchOne($0, sql: "SELECT id FROM database_identity") }
        #expect(idA != nil)
        #expect(idA != idB)
        // Reopening keeps it.
        let again = try BagbotDatabase.open(path: first.file("bagbot.db"))
        #expect(try again.read { try String.fetchOne($0, sql: "SELECT id FROM database_identity") } == idA)
    }

    @Test("money reads back exactly as written, and text that is not a decimal is a read error, not a number")
    func moneyColumns() throws {
        let dir = try TempDir()
        let queue = try DatabaseQueue(path: dir.file("money.db"))
        try queue.write { db in
            // No type, so no affinity: a REAL stays a REAL (a TEXT column would have turned it into text).
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, amount)")
            try db.execute(sql: "INSERT INTO t (id, amount) VALUES (1, ?)", arguments: [ExactDecimal("0.00100000")!])
            try db.execute(sql: "INSERT INTO t (id, amount) VALUES (2, 'lots')")
            try db.execute(sql: "INSERT INTO t (id, amount) VALUES (3, 0.5)")
        }
        try queue.read { (db: Database) throws in
            let exact = try ExactDecimal.fetchOne(db, sql: "SELECT amount FROM t WHERE id = 1")
            #expect(exact?.description == "0.00100000")
            #expect(throws: (any Error).self) { _ = try ExactDecimal.fetchOne(db, sql: "SELECT amount FROM t WHERE id = 2") }
            #expect(throws: (any Error).self) { _ = try ExactDecimal.fetchOne(db, sql: "SELECT amount FROM t WHERE id = 3") }
        }
    }

    @Test("v3: statuses renamed, the paper venue's books built from the paper orders and fills, positions net of fees")
    func lifecycleMigration() throws {
        let dir = try TempDir()
        let queue = try DatabaseQueue(path: dir.file("bagbot.db"))
        try BagbotDatabase.migrator.migrate(queue, upTo: "v2-exact-money")
        try queue.write { db in
            for (id, status, side, price) in [("m", "filled", "buy", "100"), ("z", "filled", "sell", "110"), ("c", "new", "buy", "90"),
                                              ("d", "canceled", "buy", "80"), ("e", "pending_new", "buy", "100"), ("a", "filled", "buy", "120")] {
                try db.execute(sql: """
                    INSERT INTO orders (client_order_id, venue, symbol, side, type, quantity, limit_price, status, filled_quantity,
                                        average_fill_price, created_at, updated_at)
                    VALUES (?, 'paper', 'BTCUSDT', ?, 'limit', '1', ?, ?, '0', NULL, ?, ?)
                    """, arguments: [id, side, price, status, Self.time, Self.time])
            }
            // Equal market times, neither stored nor named in order: the book took them in sequence (m, z, then
            // a). Replayed in another order the same fills give another cost and P&L.
            for (sequence, id, side, price, fee) in [(2, "z", "sell", "110", "0.11"), (3, "a", "buy", "120", "0.12"), (1, "m", "buy", "100", "0.1")] {
                try db.execute(sql: """
                    INSERT INTO fills (fill_id, sequence, client_order_id, venue, symbol, side, quantity, price, fee, time)
                    VALUES (?, ?, ?, 'paper', 'BTCUSDT', ?, '1', ?, ?, ?)
                    """, arguments: ["\(id)-1", sequence, id, side, price, fee, Self.time])
            }
            try db.execute(sql: "INSERT INTO paper_positions (symbol, quantity, cost, realized_pnl) VALUES ('BTCUSDT', '1', '120', '10')")
        }
        try BagbotDatabase.migrator.migrate(queue)
        try queue.read { (db: Database) throws in
            let statuses = try String.fetchAll(db, sql: "SELECT status FROM orders ORDER BY client_order_id")
            #expect(statuses == ["filled", "acknowledged", "cancelled", "pending_new", "filled", "filled"])
            #expect(try String.fetchAll(db, sql: "SELECT client_order_id FROM paper_orders ORDER BY client_order_id") == ["a", "c", "d", "m", "z"],
                    "the venue knows every order that left routerd, not the one that never did")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM paper_fills") == 3)
            let position = try #require(try Row.fetchOne(db, sql: "SELECT * FROM paper_positions WHERE symbol = 'BTCUSDT'"))
            #expect(position["realized_pnl"] as String == "9.79", "10 gross less the fees of the round trip")
            #expect(position["quantity"] as String == "1")
            #expect(position["cost"] as String == "120", "the long left open is the one bought at 120")
            #expect(position["open_fees"] as String == "0.12")
            #expect(try Bool.fetchOne(db, sql: "SELECT reduce_only FROM orders WHERE client_order_id = 'm'") == false)
        }
    }

    @Test("v3 stops, changing nothing, when the paper book's position is not the sum of its fills")
    func lifecycleMigrationRefusesAMismatch() throws {
        let dir = try TempDir()
        let queue = try DatabaseQueue(path: dir.file("bagbot.db"))
        try BagbotDatabase.migrator.migrate(queue, upTo: "v2-exact-money")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO orders (client_order_id, venue, symbol, side, type, quantity, status, filled_quantity, created_at, updated_at)
                VALUES ('a', 'paper', 'BTCUSDT', 'buy', 'market', '1', 'filled', '1', ?, ?)
                """, arguments: [Self.time, Self.time])
            try db.execute(sql: """
                INSERT INTO fills (fill_id, sequence, client_order_id, venue, symbol, side, quantity, price, fee, time)
                VALUES ('a-1', 1, 'a', 'paper', 'BTCUSDT', 'buy', '1', '100', '0.1', ?)
                """, arguments: [Self.time])
            try db.execute(sql: "INSERT INTO paper_positions (symbol, quantity, cost, realized_pnl) VALUES ('BTCUSDT', '2', '200', '0')")
        }
        #expect(throws: (any Error).self) { try BagbotDatabase.migrator.migrate(queue) }
        try queue.read { (db: Database) throws in
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier").last == "v2-exact-money")
        }
    }
}
