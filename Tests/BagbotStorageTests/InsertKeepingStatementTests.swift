import BagbotTestSupport
import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("Inserts through kept statements")
struct InsertKeepingStatementTests {
    struct Row: Codable, FetchableRecord, PersistableRecord, ColumnRecord, Equatable {
        static let databaseTableName = "things"
        var id: String
        var amount: String
        var note: String?

        var columns: [(name: String, value: (any DatabaseValueConvertible)?)] { [("id", id), ("amount", amount), ("note", note)] }
        func encode(to container: inout PersistenceContainer) { container.set(columns) }
    }

    @Test("an insert refuses a key it has, an upsert replaces every column, and both match GRDB's own")
    func insertAndUpsert() throws {
        let dir = try TempDir()
        let pool = try DatabasePool(path: dir.file("t.db"))
        try pool.write { db in
            try db.create(table: "things") { t in
                t.column("id", .text).primaryKey()
                t.column("amount", .text).notNull()
                t.column("note", .text)
            }
            try db.insertKeepingStatement(Row(id: "a", amount: "0.10", note: "first"))
            #expect(throws: DatabaseError.self) { try db.insertKeepingStatement(Row(id: "a", amount: "9", note: nil)) }
            try db.insertKeepingStatement(Row(id: "a", amount: "0.20", note: nil), upsertKey: "id")
            try db.insertKeepingStatement(Row(id: "b", amount: "1", note: "new"), upsertKey: "id")
            try Row(id: "c", amount: "3", note: "grdb").insert(db)
        }
        let rows = try pool.read { db in try Row.order(Column("id")).fetchAll(db) }
        #expect(rows == [Row(id: "a", amount: "0.20", note: nil), Row(id: "b", amount: "1", note: "new"), Row(id: "c", amount: "3", note: "grdb")])
    }
}
