import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import BagbotRuntime
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import GatewayCore

@Suite("UsageRecorder")
struct UsageRecorderTests {
    static func entry(_ index: Int, token: String = "t1") -> UsageEntry {
        UsageEntry(tokenId: token, method: "GET", route: "/api/x", status: 200, latencyMs: 0.5,
                   time: APIHarness.start.addingTimeInterval(Double(index)))
    }

    /// A recorder on `h`'s database with the default usage settings but those given.
    static func recorder(_ h: APIHarness, batchSize: Int, capacity: Int? = nil, flushIntervalMs: Int? = nil) -> UsageRecorder {
        var settings = GatewaySettings.Usage()
        settings.batchSize = batchSize
        if let capacity { settings.bufferCapacity = capacity }
        if let flushIntervalMs { settings.flushIntervalMs = flushIntervalMs }
        return UsageRecorder(database: h.database, settings: settings, logger: quietLogger)
    }

    @Test("a full buffer refuses at once and counts; nothing waits")
    func fullBuffer() async throws {
        let h = try APIHarness()
        let recorder = Self.recorder(h, batchSize: 100, capacity: 100)
        var accepted = 0
        for index in 0..<150 where recorder.record(Self.entry(index)) { accepted += 1 }
        #expect(accepted == 100)
        #expect(recorder.dropped == 50)
        #expect(recorder.pending == 100)
        try await recorder.flush()
        #expect(recorder.pending == 0)
        #expect(recorder.written == 100)
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs") == 100)
        // Room again after the write.
        #expect(recorder.record(Self.entry(200)))
    }

    @Test("a batch of several statements' worth (64 rows each, and a remainder) is written row for row, in order")
    func rowsAcrossStatements() async throws {
        let h = try APIHarness()
        let recorder = Self.recorder(h, batchSize: 1_000)
        for index in 0..<(2 * UsageRecorder.rowsPerStatement + 3) {
            recorder.record(UsageEntry(tokenId: "t\(index % 3)", method: index.isMultiple(of: 2) ? "GET" : "POST",
                                       route: "/api/r\(index)", status: 200 + index, latencyMs: Double(index) / 4,
                                       time: APIHarness.start.addingTimeInterval(Double(index))))
        }
        try await recorder.flush()
        let rows = try await h.database.read { db in
            try Row.fetchAll(db, sql: "SELECT token_id, method, route, status, latency_ms, time FROM usage_logs ORDER BY rowid")
        }
        #expect(rows.count == 2 * UsageRecorder.rowsPerStatement + 3)
        for (index, row) in rows.enumerated() {
            #expect(row["token_id"] as String == "t\(index % 3)")
            #expect(row["method"] as String == (index.isMultiple(of: 2) ? "GET" : "POST"))
            #expect(row["route"] as String == "/api/r\(index)")
            #expect(row["status"] as Int == 200 + index)
            #expect(row["latency_ms"] as Double == Double(index) / 4)
            #expect(row["time"] as Date == APIHarness.start.addingTimeInterval(Double(index)))
        }
    }

    /// Rows inserted into `usage_logs` by each committed transaction.
    final class UsageCommits: TransactionObserver, @unchecked Sendable {
        private var rows = 0
        private(set) var committed: [Int] = []
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "usage_logs" }
        func databaseDidChange(with event: DatabaseEvent) { rows += 1 }
        func databaseDidCommit(_ db: Database) {
            committed.append(rows)
            rows = 0
        }
        func databaseDidRollback(_ db: Database) { rows = 0 }
    }

    @Test("a flush writes batch_size calls to a transaction, so one write never holds the database's lock for more")
    func transactionsOfOneBatch() async throws {
        let h = try APIHarness()
        let recorder = Self.recorder(h, batchSize: 100)
        let commits = UsageCommits()
        h.database.add(transactionObserver: commits)
        for index in 0..<250 { recorder.record(Self.entry(index)) }
        try await recorder.flush()
        #expect(commits.committed == [100, 100, 50])
        #expect(recorder.written == 250)
        let times = try await h.database.read { db in try Date.fetchAll(db, sql: "SELECT time FROM usage_logs ORDER BY rowid") }
        #expect(times == (0..<250).map { APIHarness.start.addingTimeInterval(Double($0)) })
    }

    @Test("a failed transaction's calls go back to the front of the buffer; those written before it stay written")
    func failedBatchKept() async throws {
        let h = try APIHarness()
        let recorder = Self.recorder(h, batchSize: 100)
        try await h.database.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON usage_logs WHEN NEW.status = 599 BEGIN SELECT RAISE(ABORT, 'refused'); END")
        }
        for index in 0..<250 {
            var entry = Self.entry(index)
            if index == 150 { entry.status = 599 }
            recorder.record(entry)
        }
        await #expect(throws: (any Error).self) { try await recorder.flush() }
        #expect(recorder.written == 100)
        #expect(recorder.pending == 150)
        #expect(recorder.dropped == 0)
        try await h.database.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        try await recorder.flush()
        let times = try await h.database.read { db in try Date.fetchAll(db, sql: "SELECT time FROM usage_logs ORDER BY rowid") }
        #expect(times == (0..<250).map { APIHarness.start.addingTimeInterval(Double($0)) })
    }

    @Test("every call buffered is written when the service stops cleanly, with last_used_at in the same batch")
    func flushOnShutdown() async throws {
        let h = try APIHarness()
        let token = try await h.token(owner: "pat", tier: .pro)
        let id = try await h.tokenId(token)
        // The timer writes nothing during the test.
        let recorder = Self.recorder(h, batchSize: 10_000, flushIntervalMs: 60_000)
        let group = ServiceGroup(configuration: .init(services: [recorder], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for index in 0..<1_234 { recorder.record(Self.entry(index, token: id)) }
            #expect(try h.count("SELECT COUNT(*) FROM usage_logs") == 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs") == 1_234)
        let lastUsed = try await h.tokens.list(owner: "pat").first?.lastUsedAt
        #expect(lastUsed == APIHarness.start.addingTimeInterval(1_233))
    }

    @Test("a full batch is written before the interval ends")
    func batchWakesTheWriter() async throws {
        let h = try APIHarness()
        // An interval far beyond the wait below: only the full batch can wake the writer.
        let recorder = Self.recorder(h, batchSize: 50, flushIntervalMs: 600_000)
        let group = ServiceGroup(configuration: .init(services: [recorder], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for index in 0..<50 { recorder.record(Self.entry(index)) }
            // A hang guard below the 60 s interval (so only the full batch can have woken the writer), with room for a
            // loaded machine: the route matrix opens hundreds of databases alongside, each write synced to disk.
            try await waitUntil("the batch to be written", timeout: .seconds(45)) { recorder.written == 50 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs") == 50)
    }

    @Test("the API's calls are all in usage_logs after the application stops cleanly")
    func applicationStop() async throws {
        var settings = GatewaySettings()
        settings.usage.flushIntervalMs = 60_000
        settings.usage.batchSize = 10_000
        let h = try APIHarness(settings: settings)
        let token = try await h.token(owner: "ezra", tier: .enterprise)
        try await h.app.test(.router) { client async throws in
            for _ in 0..<300 { _ = try await client.call(.get, "/api/subscription/me", token: token) }
            _ = try await client.call(.get, "/api/admin/tokens/x", token: token)
            #expect(try h.count("SELECT COUNT(*) FROM usage_logs") == 0)
        }
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE route = '/api/subscription/me' AND status = 200 AND method = 'GET'") == 300)
        // The route's pattern, not the concrete path.
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE route = '/api/admin/tokens/{id}' AND status = 405") == 1)
        #expect(try h.count("SELECT COUNT(*) FROM usage_logs WHERE latency_ms >= 0 AND time = ?", [APIHarness.start]) == 301)
    }
}
