import BagbotIPC
import BagbotTestSupport
import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

/// The wall clock mindsetd trusts: a host clock stepped forward is followed only as fast as time elapses.
struct TrustedWallClockTests {
    let t0 = utc("2024-03-01T21:00:00Z")

    /// A host clock and an elapsed-time clock the test moves.
    final class Host: Sendable {
        let wall: NIOLockedValueBox<Date>
        let elapsed = NIOLockedValueBox(Duration.seconds(1_000))
        init(_ wall: Date) { self.wall = NIOLockedValueBox(wall) }

        func pass(_ seconds: Int64) {
            elapsed.withLockedValue { $0 += .seconds(seconds) }
            wall.withLockedValue { $0 = $0.addingTimeInterval(TimeInterval(seconds)) }
        }

        func clock() -> TrustedWallClock {
            TrustedWallClock(raw: { self.wall.withLockedValue { $0 } }, elapsed: { self.elapsed.withLockedValue { $0 } })
        }
    }

    @Test("a clock that keeps time is given as it is")
    func steadyClock() {
        let host = Host(t0)
        let clock = host.clock()
        #expect(clock.now() == t0)
        host.pass(1)
        #expect(clock.now() == t0.addingTimeInterval(1))
        host.pass(3_600)
        #expect(clock.now() == t0.addingTimeInterval(3_601))
    }

    @Test("a blip of three hours for one poll moves the time given by no more than twice the second that passed")
    func blipIsIgnored() {
        let host = Host(t0)
        let clock = host.clock()
        _ = clock.now()
        host.pass(1)
        host.wall.withLockedValue { $0 = $0.addingTimeInterval(3 * 3_600) }
        #expect(clock.now() == t0.addingTimeInterval(2), "not 00:00 of the next day")
        host.wall.withLockedValue { $0 = $0.addingTimeInterval(-3 * 3_600) }
        host.pass(1)
        #expect(clock.now() == t0.addingTimeInterval(2), "back in step: the host's time again")
    }

    @Test("a real step forward is caught up at double speed: an hour ahead is absorbed over an hour")
    func stepIsCaughtUp() {
        let host = Host(t0)
        let clock = host.clock()
        _ = clock.now()
        host.wall.withLockedValue { $0 = $0.addingTimeInterval(3_600) }
        host.pass(1_800)
        #expect(clock.now() == t0.addingTimeInterval(3_600), "half an hour passed, counted twice")
        host.pass(1_800)
        #expect(clock.now() == t0.addingTimeInterval(3_600 + 3_600), "caught up: the host's time")
        host.pass(10)
        #expect(clock.now() == t0.addingTimeInterval(7_210))
    }

    @Test("a step back is followed at once")
    func stepBack() {
        let host = Host(t0)
        let clock = host.clock()
        _ = clock.now()
        host.wall.withLockedValue { $0 = $0.addingTimeInterval(-600) }
        #expect(clock.now() == t0.addingTimeInterval(-600))
    }

    @Test("while a step forward is caught up, an entry stamped at the host's new time is refused; an exit passes")
    func entriesWaitExitsPass() async throws {
        let dir = try TempDir()
        let host = Host(t0)
        let mindset = MindsetService(rules: makeRules(clockSkew: 30), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                                     ledger: FakeFillLog(), wallClock: host.clock().now)
        #expect(await mindset.catchUp(), "linked to an empty log")
        host.pass(1)
        host.wall.withLockedValue { $0 = $0.addingTimeInterval(3_600) }
        let now = host.wall.withLockedValue { $0 }
        await #expect(throws: IPCError.self) { _ = try await mindset.evaluate(proposal(at: now)) }
        #expect(try await mindset.evaluate(proposal(at: now, isEntry: false)).approved, "reducing risk is never refused")
    }

    @Test("mindsetd on a host whose clock blips past midnight keeps the day's lock")
    func lockSurvivesABlip() async throws {
        let dir = try TempDir()
        let host = Host(t0)
        let log = FakeFillLog()
        log.equity.withLockedValue { $0 = 100_000 }
        let mindset = MindsetService(rules: makeRules(clockSkew: 30), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                                     ledger: log, wallClock: host.clock().now)
        #expect(await mindset.catchUp(), "linked to an empty log")
        await mindset.markToMarket()
        log.equity.withLockedValue { $0 = 98_000 }
        await mindset.markToMarket()
        #expect(await mindset.snapshot().emotionState == "LOCKED", "2,000 down on the day against a 1,000 limit")
        // For one poll the host's clock reads 00:00:05 of the next day.
        host.pass(1)
        host.wall.withLockedValue { $0 = utc("2024-03-02T00:00:05Z") }
        await mindset.markToMarket()
        let snapshot = await mindset.snapshot()
        #expect(snapshot.emotionState == "LOCKED" && snapshot.dayStart == utc("2024-03-01T00:00:00Z"),
                "\(snapshot.emotionState), day \(String(describing: snapshot.dayStart))")
    }
}
