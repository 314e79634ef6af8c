import Foundation
import BagbotDomain
import Testing
@testable import ArsenalCore

@Suite("arsenald's tick inbox")
struct TickInboxTests {
    static func tick(_ sequence: UInt64) -> Tick {
        Tick(symbol: "BTCUSDT", time: Date(timeIntervalSince1970: Double(sequence)), bid: 1, ask: 2, last: 1, volume: 0,
             sequence: sequence, source: "test")
    }

    @Test("ticks come out in order; a full inbox drops its oldest, says so, and keeps the newest")
    func keepsTheNewest() {
        let inbox = TickInbox(capacity: 3)
        #expect((1...3).allSatisfy { inbox.put(Self.tick($0)) })
        #expect(!inbox.put(Self.tick(4)))
        #expect(!inbox.put(Self.tick(5)))
        #expect([inbox.take(), inbox.take(), inbox.take(), inbox.take()].map { $0?.tick.sequence } == [3, 4, 5, nil])
    }

    @Test("the reader waits for the next tick, and is told when the inbox finishes; what was waiting is dropped")
    func waitsAndFinishes() async throws {
        let inbox = TickInbox(capacity: 8)
        inbox.put(Self.tick(1))
        #expect(await inbox.wait())
        #expect(inbox.take()?.tick.sequence == 1)
        let reader = Task { () -> [UInt64] in
            var seen: [UInt64] = []
            while true {
                if let (tick, _) = inbox.take() {
                    seen.append(tick.sequence)
                    continue
                }
                guard await inbox.wait() else { return seen }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        inbox.put(Self.tick(2))
        try await Task.sleep(for: .milliseconds(50))
        inbox.put(Self.tick(3))
        try await Task.sleep(for: .milliseconds(50))
        inbox.finish()
        #expect(await reader.value == [2, 3])
        // Finished: nothing is taken in, nothing comes out, and the reader is not made to wait.
        inbox.put(Self.tick(4))
        #expect(inbox.take() == nil)
        #expect(await inbox.wait() == false)
    }

    @Test("ticks still waiting when the inbox finishes are not handed out")
    func finishDropsWaitingTicks() async {
        let inbox = TickInbox(capacity: 8)
        inbox.put(Self.tick(1))
        inbox.put(Self.tick(2))
        inbox.finish()
        #expect(inbox.take() == nil)
        #expect(await inbox.wait() == false)
    }

    @Test("each tick carries the updates received before it, and a wait for them ends when they are applied or the inbox finishes")
    func updatesBeforeATick() async throws {
        let inbox = TickInbox(capacity: 8)
        inbox.put(Self.tick(1))
        inbox.noteUpdateReceived()
        inbox.noteUpdateReceived()
        inbox.put(Self.tick(2))
        let first = try #require(inbox.take())
        #expect(first.updatesBefore == 0 && inbox.updatesApplied(through: 0))
        let second = try #require(inbox.take())
        #expect(second.updatesBefore == 2 && !inbox.updatesApplied(through: 2))
        let waiting = Task { await inbox.waitForUpdates(through: 2) }
        inbox.noteUpdateApplied()
        try await Task.sleep(for: .milliseconds(50))
        inbox.noteUpdateApplied()
        #expect(await waiting.value)
        #expect(inbox.updatesApplied(through: 2))
        inbox.noteUpdateReceived()
        let stranded = Task { await inbox.waitForUpdates(through: 3) }
        try await Task.sleep(for: .milliseconds(50))
        inbox.finish()
        #expect(await stranded.value == false)
    }
}
