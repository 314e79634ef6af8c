import BagbotTestSupport
import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("bagbot.db opened by several daemons at once")
struct DatabaseOpenRaceTests {
    @Test("many simultaneous first opens of one new file all succeed, and migrate it once")
    func concurrentFirstOpens() async throws {
        // Each round is a fresh file opened by 6 openers at once, as the daemons do on a first start.
        for round in 0..<15 {
            let dir = try TempDir()
            let path = dir.file("bagbot-\(round).db")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask { _ = try BagbotDatabase.open(path: path) }
                }
                try await group.waitForAll()
            }
            let pool = try BagbotDatabase.open(path: path)
            let applied = try await pool.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            }
            #expect(applied.sorted() == BagbotDatabase.migrator.migrations.sorted(), "each migration once (listed by name: v10 sorts before v2)")
        }
    }
}
