import GRDB

extension DatabaseWriter {
    /// One transaction, run on the calling thread. `durable`: synced to disk before it returns
    /// (`synchronous = FULL`, the file's setting). Otherwise it is written to the WAL without an fsync of its
    /// own (`NORMAL`): it survives a crash of the process, and the next durable commit syncs it along with
    /// itself, since the WAL is one log and a sync covers everything before it; only a power cut before that
    /// could lose it, and then it is lost with everything written after it, never alone.
    ///
    /// Blocking: call it only from a thread that may wait for the disk (never NIO's event loops or the
    /// cooperative pool of a latency-sensitive daemon).
    public func commit<T>(durable: Bool, _ updates: (Database) throws -> T) throws -> T {
        guard !durable else {
            return try writeWithoutTransaction { db in
                // Said every time rather than trusted: GRDB sets NORMAL itself when it opens a pool in WAL mode.
                try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute()
                var result: T?
                try db.inTransaction {
                    result = try updates(db)
                    return .commit
                }
                return result!
            }
        }
        return try writeWithoutTransaction { db in
            try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute()
            defer { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
            var result: T?
            try db.inTransaction {
                result = try updates(db)
                return .commit
            }
            // inTransaction committed, so `updates` returned.
            return result!
        }
    }
}

extension DatabasePool {
    /// A read on the calling thread through the writer's connection (blocking, as `commit`). Not from the
    /// pool's readers: those may all be taken by long scans, and a thread waiting for one would stall every
    /// order behind it. The writer is routerd's own, used by this thread, and sees its latest commits.
    public func readNow<T>(_ value: (Database) throws -> T) throws -> T {
        try writeWithoutTransaction(value)
    }
}

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
