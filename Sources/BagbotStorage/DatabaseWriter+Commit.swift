import GRDB

extension DatabaseWriter {
    /// One transaction, run on the calling thread. `durable`: synced to disk before it returns
    /// (`synchronous = FULL`). Otherwise it is written to the WAL without an fsync of its own (`NORMAL` for
    /// this transaction only): it survives a crash of the process, and the next durable commit syncs it along
    /// with itself, since the WAL is one log and a sync covers everything before it; only a power cut before
    /// that could lose it, and then it is lost with everything written after it, never alone.
    ///
    /// The level is said for every transaction rather than trusted: GRDB sets `NORMAL` itself when it opens a
    /// pool in WAL mode.
    ///
    /// Blocking: call it only from a thread that may wait for the disk (never NIO's event loops or the
    /// cooperative pool of a latency-sensitive daemon).
    ///
    /// The transaction's statements are kept (`cachedStatement`) rather than GRDB's `inTransaction`, which
    /// compiles `BEGIN` and `COMMIT` for every call: the order path committed four times an order, and that was
    /// a tenth of its CPU (docs/performance.md, "Durable orders"). A `COMMIT` that fails is thrown as `CommitFailed`. `updates` must let every error through: after
    /// an error SQLite may have rolled the transaction back already, and a statement run after that would
    /// commit on its own. What reaches the end outside a transaction is refused, never committed in part.
    public func commit<T>(durable: Bool, _ updates: (Database) throws -> T) throws -> T {
        try writeWithoutTransaction { db in
            try db.cachedStatement(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL").execute()
            defer { if !durable { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() } }
            try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
            do {
                let result = try updates(db)
                guard db.isInsideTransaction else {
                    throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back before its commit")
                }
                do {
                    try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                } catch {
                    throw CommitFailed(error: error)
                }
                return result
            } catch {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
                throw error
            }
        }
    }
}

/// The `COMMIT` of `commit(durable:)` failed. Unlike a statement's failure before it, which leaves nothing, this one
/// may have written the transaction's frames to the log before failing (an I/O error on their sync): nothing of it
/// can be read now, but SQLite takes every complete transaction it finds in the log when the database is next
/// opened, so it may come back then, unless a later commit is written over it first.
public struct CommitFailed: Error, CustomStringConvertible {
    public let error: Error
    public init(error: Error) { self.error = error }
    public var description: String { "the commit failed: \(error)" }
}

extension DatabasePool {
    /// A read on the calling thread through the writer's connection (blocking, as `commit`). Not from the
    /// pool's readers: those may all be taken by long scans, and a thread waiting for one would stall every
    /// order behind it. The writer is routerd's own, used by this thread, and sees its latest commits.
    public func readNow<T>(_ value: (Database) throws -> T) throws -> T {
        try writeWithoutTransaction(value)
    }
}
