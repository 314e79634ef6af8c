import GRDB
import Synchronization

/// A record that lists its columns itself, in a fixed order, instead of through `Encodable`: the order path
/// writes such rows with every order, and GRDB's `Codable` encoding (a container per row, the snake_case key
/// worked out per column) cost more than the writes (docs/performance.md). Its `encode(to:)` is
/// `container.set(columns)`, so GRDB's own requests see the same columns.
public protocol ColumnRecord: EncodableRecord, TableRecord {
    var columns: [(name: String, value: (any DatabaseValueConvertible)?)] { get }
}

extension PersistenceContainer {
    public mutating func set(_ columns: [(name: String, value: (any DatabaseValueConvertible)?)]) {
        for (name, value) in columns { self[name] = value }
    }
}

extension Database {
    /// Inserts `record`, or with `upsertKey` inserts it or updates the row with the same key, through a
    /// statement compiled once per table and kept (`cachedStatement`). GRDB's own `insert`/`upsert` build
    /// their statement and a `DAO` for every call, which on the order path cost more than the writes
    /// themselves (docs/performance.md). The statement's text is worked out once per record type too
    /// (`InsertStatementTexts`): building it cost about as much as running it.
    public func insertKeepingStatement<Record: ColumnRecord>(_ record: Record, upsertKey: String? = nil) throws {
        let columns = record.columns
        let sql = InsertStatementTexts.text(for: Record.self, upsertKey: upsertKey) {
            Self.insertText(table: Record.databaseTableName, columns: columns.map(\.name), upsertKey: upsertKey)
        }
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(columns.map(\.value)))
    }

    static func insertText(table: String, columns: [String], upsertKey: String?) -> String {
        let names = columns.map(\.quotedDatabaseIdentifier)
        var sql = "INSERT INTO \(table.quotedDatabaseIdentifier) (" + names.joined(separator: ", ") + ") VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        if let upsertKey {
            sql += " ON CONFLICT(\(upsertKey.quotedDatabaseIdentifier)) DO UPDATE SET "
                + columns.filter { $0 != upsertKey }.map(\.quotedDatabaseIdentifier).map { "\($0) = excluded.\($0)" }
                    .joined(separator: ", ")
        }
        return sql
    }
}

/// The text of each record type's insert (and upsert per key), worked out the first time. A record type's
/// columns are the same for every value of it (`ColumnRecord`), so the text is too.
enum InsertStatementTexts {
    private struct Key: Hashable {
        var record: ObjectIdentifier
        var upsertKey: String?
    }

    private static let texts = Mutex<[Key: String]>([:])

    static func text<Record>(for record: Record.Type, upsertKey: String?, make: () -> String) -> String {
        let key = Key(record: ObjectIdentifier(record), upsertKey: upsertKey)
        if let text = texts.withLock({ $0[key] }) { return text }
        let text = make()
        texts.withLock { $0[key] = text }
        return text
    }
}
