import GRDB

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
    /// themselves (docs/performance.md).
    public func insertKeepingStatement<Record: ColumnRecord>(_ record: Record, upsertKey: String? = nil) throws {
        let columns = record.columns
        let names = columns.map(\.name.quotedDatabaseIdentifier)
        var sql = "INSERT INTO \(Record.databaseTableName.quotedDatabaseIdentifier) (" + names.joined(separator: ", ") + ") VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        if let upsertKey {
            sql += " ON CONFLICT(\(upsertKey.quotedDatabaseIdentifier)) DO UPDATE SET "
                + columns.filter { $0.name != upsertKey }.map(\.name.quotedDatabaseIdentifier).map { "\($0) = excluded.\($0)" }
                    .joined(separator: ", ")
        }
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(columns.map(\.value)))
    }
}
