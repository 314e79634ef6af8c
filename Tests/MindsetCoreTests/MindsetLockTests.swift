import BagbotTestSupport
import Foundation
import BagbotDomain
import BagbotIPC
import NIOConcurrencyHelpers
import Testing
@testable import MindsetCore

@Suite("locks: an admin lock and unlock, a self-lockout nobody can lift early")
struct MindsetLockTests {
    let start = utc("2026-06-01T10:00:00Z")

    func service(_ dir: TempDir, wall: NIOLockedValueBox<Date>, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetService {
        MindsetService(rules: makeRules(clockSkew: 30, change), store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger,
                       wallClock: { wall.withLockedValue { $0 } })
    }

    @Test("an admin unlock lifts an admin lock, never a limit's")
    func unlock() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let mindset = service(dir, wall: wall) { $0.dailyLossLimit = 100 }
        _ = try await mindset.evaluate(proposal(at: start))
        _ = try await mindset.lock(LockRequest(reason: "lunch", time: nil))
        #expect(try await mindset.unlock(UnlockRequest(reason: "back")).emotionState == "CALM")
        #expect(try await mindset.evaluate(proposal(at: start)).approved)
        let error = await #expect(throws: IPCError.self) { _ = try await mindset.unlock(UnlockRequest(reason: "again")) }
        #expect(error?.code == .conflict)

        _ = try await mindset.record(trade(pnl: -100, at: start))
        let limit = await #expect(throws: IPCError.self) { _ = try await mindset.unlock(UnlockRequest(reason: "let me trade")) }
        #expect(limit?.code == .conflict)
        #expect(limit?.message.contains("only the daily reset") == true)
        #expect(await mindset.snapshot().emotionState == "LOCKED")
    }

    @Test("a self-lockout blocks entries until its time, through an unlock, a daily reset and a restart; exits pass")
    func selfLockout() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let mindset = service(dir, wall: wall)
        let until = start.addingTimeInterval(2 * 86_400)
        _ = try await mindset.selfLockout(SelfLockoutRequest(until: until, reason: "cooling off"))
        let blocked = try await mindset.evaluate(proposal(at: start))
        #expect(!blocked.approved)
        #expect(blocked.reasons.first?.hasPrefix("self_lockout") == true)
        #expect(try await mindset.evaluate(proposal(at: start, isEntry: false)).approved)
        #expect(await #expect(throws: IPCError.self) { _ = try await mindset.unlock(UnlockRequest(reason: "admin override")) }?.code == .conflict)

        // The next day (a reset on the way), after a restart: still locked out.
        let nextDay = start.addingTimeInterval(86_400)
        wall.withLockedValue { $0 = nextDay }
        let restarted = service(dir, wall: wall)
        #expect(!(try await restarted.evaluate(proposal(at: nextDay))).approved)
        #expect(await restarted.snapshot().selfLockoutUntil == until)

        // It cannot be shortened; it can be extended.
        let shorter = await #expect(throws: IPCError.self) {
            _ = try await restarted.selfLockout(SelfLockoutRequest(until: until.addingTimeInterval(-3_600), reason: "changed my mind"))
        }
        #expect(shorter?.code == .conflict)
        _ = try await restarted.selfLockout(SelfLockoutRequest(until: until.addingTimeInterval(3_600), reason: "longer"))

        wall.withLockedValue { $0 = until.addingTimeInterval(3_600) }
        #expect(try await restarted.evaluate(proposal(at: until.addingTimeInterval(3_600))).approved, "over at its time, by itself")
        #expect(await restarted.snapshot().selfLockoutUntil == nil)
    }

    @Test("a self-lockout must end in the future and within max_self_lockout_days")
    func selfLockoutBounds() async throws {
        let dir = try TempDir()
        let wall = NIOLockedValueBox(start)
        let mindset = service(dir, wall: wall) { $0.maxSelfLockoutDays = 7 }
        #expect(await #expect(throws: IPCError.self) {
            _ = try await mindset.selfLockout(SelfLockoutRequest(until: start.addingTimeInterval(-1), reason: "x"))
        }?.code == .badRequest)
        #expect(await #expect(throws: IPCError.self) {
            _ = try await mindset.selfLockout(SelfLockoutRequest(until: start.addingTimeInterval(8 * 86_400), reason: "x"))
        }?.code == .badRequest)
        #expect(await mindset.snapshot().selfLockoutUntil == nil)
    }
}

@Suite("every transition is handed on once, in order (mindsetd publishes them on its state topic)")
struct MindsetTransitionEventTests {
    @Test("limits, an admin lock and unlock, and the daily reset: each transition once")
    func transitionsAnnounced() async throws {
        let dir = try TempDir()
        let seen = NIOLockedValueBox<[String]>([])
        let t0 = utc("2024-03-01T10:00:00Z")
        // The wall clock of a live mindsetd, a few seconds after the day's events.
        let wall = NIOLockedValueBox(t0.addingTimeInterval(5))
        let mindset = MindsetService(rules: makeRules { $0.revengeCooldownSeconds = 0 }, store: MindsetStore(stateDirectory: dir.file("state")),
                                     logger: quietLogger, wallClock: { wall.withLockedValue { $0 } })
        await mindset.setTransitionHandler { change in seen.withLockedValue { $0.append("\(change.from.rawValue)→\(change.to.rawValue)") } }
        _ = try await mindset.record(trade(pnl: -1, at: t0))
        _ = try await mindset.record(trade(pnl: -1, at: t0.addingTimeInterval(1)))
        _ = try await mindset.lock(LockRequest(reason: "lunch", time: nil))
        _ = try await mindset.unlock(UnlockRequest(reason: "back"))
        _ = try await mindset.lock(LockRequest(reason: "done", time: nil))
        wall.withLockedValue { $0 = utc("2024-03-02T10:00:05Z") }
        _ = try await mindset.evaluate(proposal(at: utc("2024-03-02T10:00:00Z")))
        _ = try await mindset.evaluate(proposal(at: utc("2024-03-02T10:00:01Z")))
        // The unlock goes to CALM, and at once to what the day's two losses call for.
        #expect(seen.withLockedValue { $0 } == ["CALM→CAUTIOUS", "CAUTIOUS→LOCKED", "LOCKED→CALM", "CALM→CAUTIOUS", "CAUTIOUS→LOCKED", "LOCKED→CALM"])
    }
}

@Suite("mindset.state says when the revenge guard ends")
struct MindsetRevengeStateTests {
    @Test("after a loss: the cooldown and the window with their end times, then neither")
    func revengeGuardInState() async throws {
        let dir = try TempDir()
        let mindset = MindsetService(rules: makeRules { $0.revengeCooldownSeconds = 300; $0.revengeWindowSeconds = 1_800 },
                                     store: MindsetStore(stateDirectory: dir.file("state")), logger: quietLogger)
        let t0 = utc("2024-03-01T10:00:00Z")
        _ = try await mindset.evaluate(proposal(at: t0))
        let snapshot = try await mindset.record(trade(pnl: -5, at: t0.addingTimeInterval(10), quantity: 2, entry: 50))
        #expect(snapshot.cooldownUntil == t0.addingTimeInterval(310))
        #expect(snapshot.revengeWindowUntil == t0.addingTimeInterval(1_810))
        #expect(snapshot.lastLossNotional == 100)
        _ = try await mindset.evaluate(proposal(at: t0.addingTimeInterval(2_000)))
        let later = await mindset.snapshot()
        #expect(later.cooldownUntil == nil)
        #expect(later.revengeWindowUntil == nil)
    }
}
