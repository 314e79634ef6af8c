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
}
