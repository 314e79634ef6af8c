import Foundation
import Synchronization
import Testing
@testable import GatewayCore

/// Reads shared between requests: fewer calls, never an answer older than its request.
@Suite("CoalescedRead")
struct CoalescedReadTests {
    /// A daemon whose calls each return the number of the call and end only when the test says so.
    actor ScriptedDaemon {
        private(set) var calls = 0
        private var release: [Int: CheckedContinuation<Void, Never>] = [:]
        private var released: Set<Int> = []
        var failing = false

        func call() async throws -> Int {
            calls += 1
            let number = calls
            if !released.contains(number) {
                await withCheckedContinuation { release[number] = $0 }
            }
            // A failure of the daemon's own (a timeout) comes first; else a call cancelled with its caller fails here.
            if failing { throw TestFailure(call: number) }
            try Task.checkCancellation()
            return number
        }

        func finish(_ number: Int) {
            released.insert(number)
            release.removeValue(forKey: number)?.resume()
        }

        func setFailing(_ value: Bool) { failing = value }
    }

    struct TestFailure: Error, Equatable { let call: Int }

    static func eventually(_ condition: () async -> Bool) async throws {
        for _ in 0..<5_000 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("condition not reached in 5 s")
    }

    @Test("requests during a call share it while nothing changed since it started")
    func sharedWhileUnchanged() async throws {
        let daemon = ScriptedDaemon()
        let read = CoalescedRead(changes: SharedReadChanges()) { try await daemon.call() }
        let first = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 1 }
        await daemon.finish(2)  // a call made for the later requests would answer at once, and 2
        let later = (0..<10).map { _ in Task { try await read.value() } }
        try await Self.eventually { read.waitingRequests == 10 }
        await daemon.finish(1)
        #expect(try await first.value == 1)
        for task in later { #expect(try await task.value == 1) }
        #expect(await daemon.calls == 1)
        #expect(read.waitingRequests == 0)
        // Nothing on its way: the next request makes its own call.
        await daemon.finish(3)  // never wait on a call the test does not expect
        #expect(try await read.value() == 2)
    }

    @Test("an unchanged answer serves requests that come after its call, for the time allowed from its start, while nothing changed")
    func reusedForAWhile() async throws {
        let changes = SharedReadChanges()
        let calls = Atomic<Int>(0)
        let read = CoalescedRead(changes: changes, reuseFor: .seconds(60)) { () async throws -> Int in
            calls.add(1, ordering: .relaxed)
            return 7
        }
        #expect(try await read.value() == 7)
        #expect(try await read.value() == 7)
        #expect(calls.load(ordering: .relaxed) == 2, "the first answer was new (a change itself): not used again")
        for _ in 0..<5 { #expect(try await read.value() == 7) }
        #expect(calls.load(ordering: .relaxed) == 2, "the second, the same as the first, serves the requests after it")
        changes.noteChange()  // an order placed, say
        #expect(try await read.value() == 7)
        #expect(calls.load(ordering: .relaxed) == 3, "after a change: a call of its own")

        let brief = CoalescedRead(changes: changes, reuseFor: .milliseconds(50)) { () async throws -> Int in
            calls.add(1, ordering: .relaxed)
            return 8
        }
        _ = try await brief.value()
        _ = try await brief.value()
        let before = calls.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(60))
        _ = try await brief.value()
        #expect(calls.load(ordering: .relaxed) == before + 1, "past 50 ms from its call's start: a call of its own")
    }

    /// A daemon that always answers the same, each call held until the test lets it end.
    actor SameAnswerDaemon {
        private(set) var calls = 0
        private var held: [Int: CheckedContinuation<Void, Never>] = [:]
        private var released: Set<Int> = []

        func call() async -> Int {
            calls += 1
            let number = calls
            if !released.contains(number) { await withCheckedContinuation { held[number] = $0 } }
            return 7
        }

        func finish(_ number: Int) {
            released.insert(number)
            held.removeValue(forKey: number)?.resume()
        }
    }

    @Test("an answer whose call was on its way when something changed is not used again, however little time passed")
    func changeDuringTheCallIsNotReused() async throws {
        let daemon = SameAnswerDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes, reuseFor: .seconds(60)) { await daemon.call() }
        await daemon.finish(1)
        await daemon.finish(2)
        _ = try await read.value()
        _ = try await read.value()  // the same answer: reusable from now on
        #expect(await daemon.calls == 2)
        changes.noteChange()
        let during = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 3 }
        // An order placed while call 3 is on its way: its answer may not show it.
        changes.noteChange()
        await daemon.finish(3)
        #expect(try await during.value == 7)
        await daemon.finish(4)
        #expect(try await read.value() == 7)
        #expect(await daemon.calls == 4, "call 3 started before the order ended: a request after it makes its own call")
        #expect(try await read.value() == 7)
        #expect(await daemon.calls == 4, "call 4 started after it, with the same answer: used again")
    }

    @Test("the call a waiting request leads after a change counts from its own start, not the one before")
    func handoffCountsFromItsStart() async throws {
        let daemon = SameAnswerDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes, reuseFor: .seconds(60)) { await daemon.call() }
        await daemon.finish(1)
        _ = try await read.value()
        let first = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 2 }
        changes.noteChange()
        let waiting = Task { try await read.value() }  // waits for the next call, which it leads
        try await Self.eventually { read.waitingRequests == 1 }
        await daemon.finish(2)
        _ = try await first.value
        try await Self.eventually { await daemon.calls == 3 }
        changes.noteChange()  // while call 3, the handed-over one, is on its way
        await daemon.finish(3)
        _ = try await waiting.value
        await daemon.finish(4)
        _ = try await read.value()
        #expect(await daemon.calls == 4, "call 3's answer predates the change: not used again")
    }

    /// A daemon that answers what the test last set, each call held until the test lets it end.
    actor SettableDaemon {
        private(set) var calls = 0
        var answer = 7
        var failing = false
        private var held: [Int: CheckedContinuation<Void, Never>] = [:]
        private var released: Set<Int> = []

        func call() async throws -> Int {
            calls += 1
            let number = calls
            if !released.contains(number) { await withCheckedContinuation { held[number] = $0 } }
            if failing { throw TestFailure(call: number) }
            return answer
        }

        func finish(_ number: Int) {
            released.insert(number)
            held.removeValue(forKey: number)?.resume()
        }

        func set(answer: Int? = nil, failing: Bool? = nil) {
            if let answer { self.answer = answer }
            if let failing { self.failing = failing }
        }
    }

    /// A read whose answer 7 is reusable (two calls made, the second the same as the first), past its reuse at once.
    static func steadyRead(_ daemon: SettableDaemon, changes: SharedReadChanges, refreshWithin: Duration) async throws -> CoalescedRead<Int> {
        let read = CoalescedRead(changes: changes, reuseFor: .zero, refreshWithin: refreshWithin) { try await daemon.call() }
        await daemon.finish(1)
        await daemon.finish(2)
        #expect(try await read.value() == 7)
        #expect(try await read.value() == 7)
        #expect(await daemon.calls == 2)
        return read
    }

    /// The answer of a request that must not wait for a call, or nil (the failure recorded) when it has none within
    /// 5 s: a request stuck behind a held call fails the test instead of hanging it.
    static func answeredAtOnce(_ read: CoalescedRead<Int>) async throws -> Int? {
        let answer = Mutex<Int?>(nil)
        let request = Task {
            let value = try await read.value()
            answer.withLock { $0 = value }
        }
        try await eventually { answer.withLock { $0 != nil } }
        if answer.withLock({ $0 == nil }) { request.cancel() }
        return answer.withLock { $0 }
    }

    @Test("past its reuse, an unchanged answer serves requests at once while one call replaces it")
    func servedWhileRefreshing() async throws {
        let daemon = SettableDaemon()
        let changes = SharedReadChanges()
        let read = try await Self.steadyRead(daemon, changes: changes, refreshWithin: .seconds(60))
        await daemon.set(answer: 8)
        // Call 3 is held: none of these waits for it, and it is the only call however many come.
        for _ in 0..<5 { #expect(try await Self.answeredAtOnce(read) == 7) }
        try await Self.eventually { await daemon.calls == 3 }
        #expect(try await Self.answeredAtOnce(read) == 7)
        #expect(await daemon.calls == 3)
        let before = changes.current
        await daemon.finish(3)
        // Its answer differs: a change, so the next request waits for a call of its own rather than take call 3's.
        try await Self.eventually { changes.current == before + 1 }
        await daemon.set(answer: 9)
        await daemon.finish(4)
        #expect(try await read.value() == 9)
        #expect(await daemon.calls == 4)
    }

    @Test("after a change, or past refreshWithin, a request waits for a call instead of taking the last answer")
    func refreshWithinBounds() async throws {
        let daemon = SettableDaemon()
        let changes = SharedReadChanges()
        let read = try await Self.steadyRead(daemon, changes: changes, refreshWithin: .seconds(60))
        changes.noteChange()  // an order placed, say
        await daemon.set(answer: 8)
        await daemon.finish(3)
        #expect(try await read.value() == 8, "the answer of a call made after the change")

        let late = SettableDaemon()
        let brief = try await Self.steadyRead(late, changes: changes, refreshWithin: .milliseconds(50))
        try await Task.sleep(for: .milliseconds(60))
        await late.set(answer: 8)
        await late.finish(3)
        #expect(try await brief.value() == 8, "past 50 ms from its call's start the last answer is not served")
    }

    @Test("a change while a replacing call is on its way: requests after it wait for a call of their own")
    func changeDuringRefresh() async throws {
        let daemon = SettableDaemon()
        let changes = SharedReadChanges()
        let read = try await Self.steadyRead(daemon, changes: changes, refreshWithin: .seconds(60))
        #expect(try await Self.answeredAtOnce(read) == 7)  // call 3 goes out, held
        try await Self.eventually { await daemon.calls == 3 }
        changes.noteChange()  // an order placed while call 3 is on its way: neither its answer nor call 2's may serve now
        await daemon.set(answer: 9)
        let after = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 1 }
        await daemon.finish(4)
        await daemon.finish(3)
        #expect(try await after.value == 9)
        #expect(await daemon.calls == 4, "call 4, made after call 3 ended, is the one it waited for")
    }

    @Test("a call that failed beside the requests it was replacing an answer for ends the last answer's use")
    func failedRefreshEndsReuse() async throws {
        let daemon = SettableDaemon()
        let read = try await Self.steadyRead(daemon, changes: SharedReadChanges(), refreshWithin: .seconds(60))
        await daemon.set(failing: true)
        for number in 3...10 { await daemon.finish(number) }
        #expect(try await read.value() == 7)
        // Once the failed call is in, a request makes a call of its own and has its error.
        var failed = false
        for _ in 0..<5_000 where !failed {
            do { _ = try await read.value() } catch { failed = error is TestFailure }
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(failed)
    }

    @Test("a failed call's error is not kept for the requests after it")
    func errorsNotReused() async throws {
        let failing = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        let read = CoalescedRead(changes: SharedReadChanges(), reuseFor: .seconds(60)) { () async throws -> Int in
            calls.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw TestFailure(call: 0) }
            return 7
        }
        failing.store(true, ordering: .relaxed)
        await #expect(throws: TestFailure.self) { try await read.value() }
        failing.store(false, ordering: .relaxed)
        #expect(try await read.value() == 7)
        #expect(calls.load(ordering: .relaxed) == 2)
    }

    @Test("an answer that differs from the last is a change, noted before anyone has it; the same answer is not")
    func changedAnswerIsAChange() async throws {
        let daemon = ScriptedDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes) { try await daemon.call() }  // each call answers its own number
        await daemon.finish(1)
        await daemon.finish(2)
        #expect(try await read.value() == 1)
        #expect(changes.current == 1)
        #expect(try await read.value() == 2)
        #expect(changes.current == 2)
        let steady = CoalescedRead(changes: changes) { 7 }
        _ = try await steady.value()
        _ = try await steady.value()
        #expect(changes.current == 3, "only its first answer was new")
    }

    @Test("after a change, requests during a call wait for the next one, which serves them all")
    func freshAfterAChange() async throws {
        let daemon = ScriptedDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes) { try await daemon.call() }
        let first = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 1 }
        // An order placed, say, after call 1 went out: its answer may not show it, so nobody who comes now takes it.
        changes.noteChange()
        let later = (0..<10).map { _ in Task { try await read.value() } }
        try await Self.eventually { read.waitingRequests == 10 }
        await daemon.finish(1)
        #expect(try await first.value == 1)
        try await Self.eventually { await daemon.calls == 2 }
        // Call 2 started after the change: a request that comes during it shares it.
        await daemon.finish(3)  // a call made for it would answer at once, and 3
        let during = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 10 }  // call 2's leader is one of the ten
        await daemon.finish(2)
        for task in later { #expect(try await task.value == 2) }
        #expect(try await during.value == 2)
        #expect(await daemon.calls == 2)
        #expect(read.waitingRequests == 0)
    }

    @Test("a call's error reaches every request it serves; the next call starts afresh")
    func errorsShared() async throws {
        let daemon = ScriptedDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes) { try await daemon.call() }
        let first = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 1 }
        changes.noteChange()  // later requests wait for the next call
        let later = (0..<3).map { _ in Task { try await read.value() } }
        try await Self.eventually { read.waitingRequests == 3 }
        await daemon.finish(1)
        _ = try await first.value
        try await Self.eventually { await daemon.calls == 2 }
        await daemon.setFailing(true)
        await daemon.finish(2)
        for task in later {
            await #expect(throws: TestFailure(call: 2)) { try await task.value }
        }
        await daemon.setFailing(false)
        await daemon.finish(3)
        #expect(try await read.value() == 3)
    }

    @Test("a leader that goes away does not fail the requests its call serves")
    func leaderCancelled() async throws {
        let daemon = ScriptedDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes) { try await daemon.call() }
        await daemon.finish(1)
        _ = try await read.value()
        // Call 2 is led by one of the requests that came during call 3's predecessor; cancel that leader.
        let blocker = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 2 }
        changes.noteChange()  // later requests wait for the next call
        let leader = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 1 }
        let follower = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 2 }
        await daemon.finish(2)
        _ = try await blocker.value
        try await Self.eventually { await daemon.calls == 3 }
        leader.cancel()
        // Call 3 fails by the leader's cancellation; the follower's answer comes from call 4, made afresh.
        await daemon.finish(4)
        await daemon.finish(3)
        #expect(try await follower.value == 4)
        #expect(try await leader.value == 4)
        #expect(await daemon.calls == 4)
    }

    @Test("a cancelled leader's call that failed on its own (a timeout) is not made again: its error is the answer")
    func leaderCancelledCallFailed() async throws {
        let daemon = ScriptedDaemon()
        let changes = SharedReadChanges()
        let read = CoalescedRead(changes: changes) { try await daemon.call() }
        let blocker = Task { try await read.value() }
        try await Self.eventually { await daemon.calls == 1 }
        changes.noteChange()  // later requests wait for the next call
        let leader = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 1 }
        let follower = Task { try await read.value() }
        try await Self.eventually { read.waitingRequests == 2 }
        await daemon.finish(1)
        _ = try await blocker.value
        try await Self.eventually { await daemon.calls == 2 }
        leader.cancel()
        await daemon.setFailing(true)
        await daemon.finish(3)  // a call made again would not wait: it would answer TestFailure(call: 3)
        await daemon.finish(2)
        await #expect(throws: TestFailure(call: 2)) { try await follower.value }
        await #expect(throws: TestFailure(call: 2)) { try await leader.value }
        #expect(await daemon.calls == 2)
    }
}
