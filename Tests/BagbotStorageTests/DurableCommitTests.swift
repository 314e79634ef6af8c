import BagbotTestSupport
import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("Durable and non-durable commits on bagbot.db")
struct DurableCommitTests {
    static func synchronous(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }

    @Test("the writer syncs every commit (FULL) from the start, and a non-durable commit is NORMAL for itself only")
    func levels() throws {
        let dir = try TempDir()
        let pool = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        // GRDB turns WAL on with NORMAL; the file's setting must be FULL before any caller writes.
        #expect(try pool.writeWithoutTransaction(Self.synchronous) == 2)
        #expect(try pool.commit(durable: true, Self.synchronous) == 2)
        #expect(try pool.commit(durable: false, Self.synchronous) == 1)
        #expect(try pool.writeWithoutTransaction(Self.synchronous) == 2, "back to FULL after it")
        #expect(try pool.commit(durable: true, Self.synchronous) == 2)
        #expect(try pool.readNow(Self.synchronous) == 2, "the order path's reads go through the writer's connection")
    }

    @Test("a commit is all or nothing: an error rolls back every statement before it, and the writer goes on")
    func atomic() throws {
        let dir = try TempDir()
        let pool = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        try pool.commit(durable: true) { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)") }
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try pool.commit(durable: false) { db in
                try db.execute(sql: "INSERT INTO t (v) VALUES ('a')")
                throw Refused()
            }
        }
        // A constraint error from SQLite itself, after a statement that succeeded.
        #expect(throws: DatabaseError.self) {
            try pool.commit(durable: true) { db in
                try db.execute(sql: "INSERT INTO t (id, v) VALUES (7, 'b')")
                try db.execute(sql: "INSERT INTO t (id, v) VALUES (7, 'c')")
            }
        }
        #expect(try pool.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 0)
        #expect(try pool.readNow { db in db.isInsideTransaction } == false)
        let stored = try pool.commit(durable: false) { db in
            try db.execute(sql: "INSERT INTO t (v) VALUES ('d')")
            return try String.fetchOne(db, sql: "SELECT v FROM t") ?? ""
        }
        #expect(stored == "d")
        #expect(try pool.readNow { db in try String.fetchAll(db, sql: "SELECT v FROM t") } == ["d"])
    }

    @Test("a transaction that ended before its commit (rolled back under the caller) is refused, not half committed")
    func endedEarly() throws {
        let dir = try TempDir()
        let pool = try BagbotDatabase.open(path: dir.file("bagbot.db"))
        try pool.commit(durable: true) { db in try db.execute(sql: "CREATE TABLE t (v TEXT NOT NULL)") }
        let error = #expect(throws: DatabaseError.self) {
            try pool.commit(durable: true) { db in
                try db.execute(sql: "INSERT INTO t (v) VALUES ('a')")
                try db.execute(sql: "ROLLBACK")
            }
        }
        #expect(error?.resultCode == .SQLITE_ABORT)
        #expect(try pool.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 0)
        #expect(try pool.commit(durable: false, Self.synchronous) == 1)
        #expect(try pool.writeWithoutTransaction(Self.synchronous) == 2, "FULL again after the refused one too")
    }
}
