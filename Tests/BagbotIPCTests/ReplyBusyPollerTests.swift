#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import BagbotIPC

@Suite("Reply busy-polling: when it pays, and that it always ends")
struct ReplyBusyPollerTests {
    /// An affinity mask allowing exactly `cpus`.
    private func mask(_ cpus: Int...) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 128)
        for cpu in cpus { bytes[cpu / 8] |= 1 << (cpu % 8) }
        return bytes
    }

    private func other(_ cpus: [UInt8]?) -> ReplyBusyPoller.PeerPlacement {
        ReplyBusyPoller.PeerPlacement(isThisProcess: false, cpus: cpus)
    }

    @Test("it pays only with several CPUs, a peer in another process, and room for both to run at once")
    func decision() {
        // Client on CPU 0, server on CPU 1: the case it is for.
        #expect(ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: mask(0), peer: other(mask(1))))
        #expect(ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: mask(0, 1), peer: other(mask(0, 1))))
        #expect(ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: mask(0, 1), peer: other(mask(0))))
        // Masks the system would not tell count as any CPU.
        #expect(ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: nil, peer: other(mask(0))))
        #expect(ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: mask(0), peer: nil))
        #expect(ReplyBusyPoller.pays(machineCPUs: 64, ownCPUs: mask(63), peer: other(mask(62))))

        // Both confined to the same single CPU: spinning would only hold up the peer.
        #expect(!ReplyBusyPoller.pays(machineCPUs: 2, ownCPUs: mask(0), peer: other(mask(0))))
        #expect(!ReplyBusyPoller.pays(machineCPUs: 8, ownCPUs: mask(5), peer: other(mask(5))))
        // One CPU in all (a cgroup quota or cpuset of one).
        #expect(!ReplyBusyPoller.pays(machineCPUs: 1, ownCPUs: mask(0, 1), peer: other(mask(0, 1))))
        // A server in this process answers on the loops the spinning would hold.
        #expect(!ReplyBusyPoller.pays(
            machineCPUs: 2, ownCPUs: mask(0, 1), peer: ReplyBusyPoller.PeerPlacement(isThisProcess: true, cpus: mask(0, 1))))
    }

    @Test("the system is asked: this process's mask is readable, and a peer in this process is recognised")
    func systemFacts() throws {
        let own = try #require(ReplyBusyPoller.allowedCPUs(ofProcess: getpid()))
        #expect(own.reduce(0) { $0 + $1.nonzeroBitCount } >= 1)
        let pair = try SocketPair()
        defer { pair.close() }
        #expect(PeerCredentials.of(descriptor: pair.near)?.pid == getpid())
        #expect(!ReplyBusyPoller.pays(on: pair.near))
    }

    @Test("a spin ends as soon as a watched socket is readable, long before its budget")
    func endsWhenReadable() async throws {
        try await withPoller { loop, poller, pair in
            // Armed and made readable in one task on the loop: the spin starts with the next task and must end
            // at its first look. (Checked across awaits instead, a loaded machine kept the test's task waiting
            // long enough for a long budget to spin a core for a minute and run out.)
            let spinningOnceArmed = try await loop.submit {
                poller.watch(pair.near)
                poller.arm(for: .seconds(60))
                var byte: UInt8 = 1
                precondition(write(pair.far, &byte, 1) == 1)
                return poller.isSpinning
            }.get()
            #expect(spinningOnceArmed)
            #expect(try await eventually { try await loop.submit { !poller.isSpinning }.get() })
            try await loop.submit { poller.unwatch(pair.near) }.get()
        }
    }

    @Test("a spin ends when its budget runs out, with nothing to read")
    func endsAtBudget() async throws {
        try await withPoller { loop, poller, pair in
            try await loop.submit {
                poller.watch(pair.near)
                poller.arm(for: .milliseconds(20))
            }.get()
            #expect(try await eventually { try await loop.submit { !poller.isSpinning }.get() })
            try await loop.submit { poller.unwatch(pair.near) }.get()
        }
    }

    @Test("while it spins, the loop still runs every other task, and unwatching the last socket ends it")
    func otherTasksRun() async throws {
        try await withPoller { loop, poller, pair in
            // Every step is queued at once, so the spin lasts as long as the loop takes to run them, not as long
            // as the test's task takes to be scheduled 20 times on a loaded machine.
            let arming = loop.submit {
                poller.watch(pair.near)
                poller.watch(pair.near)  // the same number registered twice (a reused descriptor)
                poller.arm(for: .seconds(120))  // a hang bound: the unwatch below ends the spin
            }
            let checks = (0..<20).map { index in loop.submit { (index, poller.isSpinning) } }
            let afterFirstUnwatch = loop.submit {
                poller.unwatch(pair.near)
                return poller.isSpinning
            }
            let lastUnwatch = loop.submit { poller.unwatch(pair.near) }
            try await arming.get()
            for (index, check) in checks.enumerated() {
                #expect(try await check.get() == (index, true))
            }
            #expect(try await afterFirstUnwatch.get(), "one registration is left")
            try await lastUnwatch.get()
            #expect(try await eventually { try await loop.submit { !poller.isSpinning }.get() })
        }
    }

    @Test("requests that keep going out never keep the loop spinning past its budget: it rests between spins")
    func spinsAreCapped() async throws {
        try await withPoller { loop, poller, pair in
            try await loop.submit { poller.watch(pair.near) }.get()
            // Re-armed every millisecond for up to 5 s, as a stream of requests to a peer that never answers.
            var sawRest = false
            var observations: [Bool] = []
            for _ in 0..<5_000 where !sawRest {
                let spinning = try await loop.submit {
                    poller.arm(for: .milliseconds(20))
                    return poller.isSpinning
                }.get()
                observations.append(spinning)
                sawRest = !spinning
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(sawRest, "the spin was extended by every request and never let the loop sleep")
            #expect(observations.first == true, "the first request started a spin")
            try await loop.submit { poller.unwatch(pair.near) }.get()
        }
    }

    @Test("a client spins only for a method whose last answer came within the budget: none for one that takes longer")
    func slowMethodsAreNotSpunFor() async throws {
        let delay = NIOLockedValueBox(Duration.milliseconds(600))
        try await withServer(setup: { server in
            server.registry.register("test.varies", EchoRequest.self) { request, _ in
                try? await Task.sleep(for: delay.withLockedValue { $0 })
                return EchoReply(value: request.value, via: "varies")
            }
        }) { _, directory in
            let client = IPCClient(
                ownService: "tester", peerService: "testd",
                configuration: IPCClientConfiguration(socketPath: directory.socketPath, requestTimeout: .seconds(60), replyBusyPoll: .milliseconds(300)),
                logger: quietLogger)
            client.start()
            try await waitUntil("the client to connect") { client.isConnected }
            #expect(client.expectsQuickAnswer(to: "test.varies"), "a method not yet answered may be quick")
            _ = try await client.call("test.varies", EchoRequest(value: 1), as: EchoReply.self)
            #expect(!client.expectsQuickAnswer(to: "test.varies"), "answered after the budget: no spin for it")
            #expect(client.expectsQuickAnswer(to: "test.echo"), "other methods are judged on their own")
            delay.withLockedValue { $0 = .zero }
            // A loaded machine (the whole suite at once) can hold one answer past the budget: a few calls, one in time.
            var calls = 0
            repeat {
                calls += 1
                _ = try await client.call("test.varies", EchoRequest(value: calls), as: EchoReply.self)
            } while !client.expectsQuickAnswer(to: "test.varies") && calls < 20
            #expect(client.expectsQuickAnswer(to: "test.varies"), "answered within the budget again")
            await client.shutdown()
        }
    }

    @Test("a zero budget, or no watched socket, never starts a spin")
    func nothingToDo() async throws {
        try await withPoller { loop, poller, pair in
            let spinsWithNothingWatched = try await loop.submit {
                poller.arm(for: .seconds(60))
                return poller.isSpinning
            }.get()
            #expect(!spinsWithNothingWatched)
            let spinsWithZeroBudget = try await loop.submit {
                poller.watch(pair.near)
                poller.arm(for: .zero)
                defer { poller.unwatch(pair.near) }
                return poller.isSpinning
            }.get()
            #expect(!spinsWithZeroBudget)
        }
    }

    @Test("no spin while the machine is short of CPU: tasks waiting for a CPU more than a tenth of the time")
    func noSpinUnderPressure() async throws {
        // A stall counter that grows by half of every interval: the machine is short of CPU from the second sample on.
        let stalled = NIOLockedValueBox<UInt64>(0)
        let pressure = CPUPressure(read: { stalled.withLockedValue { $0 += 60_000; return $0 } })
        _ = pressure.isHigh(now: .now() - .milliseconds(120))
        try await withPoller(pressure: pressure) { loop, poller, pair in
            let spins = try await loop.submit {
                poller.watch(pair.near)
                poller.arm(for: .seconds(60))
                defer { poller.unwatch(pair.near) }
                return poller.isSpinning
            }.get()
            #expect(!spins)
        }
    }

    @Test("CPU pressure: the share of each interval stalled, read at most once an interval; unreadable counts as none")
    func pressureFromStallTotals() {
        let text = "some avg10=6.58 avg60=18.06 avg300=35.84 total=5027922657\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        #expect(CPUPressure.stallTotal(in: text) == 5_027_922_657)
        #expect(CPUPressure.stallTotal(in: "full avg10=0.00 total=3\n") == nil)
        if FileManager.default.isReadableFile(atPath: "/proc/pressure/cpu") { #expect(CPUPressure.readStallTotal() != nil) }

        let totals = NIOLockedValueBox<[UInt64]>([1_000, 21_000, 22_000])
        let reads = NIOLockedValueBox(0)
        let pressure = CPUPressure(read: {
            reads.withLockedValue { $0 += 1 }
            return totals.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
        })
        let start = NIODeadline.now()
        #expect(!pressure.isHigh(now: start))                            // the first sample: nothing to compare yet
        #expect(pressure.isHigh(now: start + .milliseconds(100)))        // 20 ms stalled in 100 ms
        #expect(pressure.isHigh(now: start + .milliseconds(150)))        // within the interval: not read again
        #expect(reads.withLockedValue { $0 } == 2)
        #expect(!pressure.isHigh(now: start + .milliseconds(200)))       // 1 ms in 100 ms
        #expect(!pressure.isHigh(now: start + .milliseconds(300)))       // unreadable from now on
        #expect(!pressure.isHigh(now: start + .milliseconds(400)))
        #expect(reads.withLockedValue { $0 } == 4)
    }

    // MARK: helpers

    /// A poller on a loop of its own (never shared with other tests), and a connected socket pair. The machine's CPU
    /// pressure is left out (a loaded test run would stop the spins these tests look at) unless `pressure` is given.
    private func withPoller(pressure: CPUPressure = CPUPressure(read: { nil }),
                            _ body: (EventLoop, ReplyBusyPoller, SocketPair) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pair = try SocketPair()
        let loop = group.next()
        do {
            try await body(loop, ReplyBusyPoller(eventLoop: loop, pressure: pressure), pair)
        } catch {
            pair.close()
            try await group.shutdownGracefully()
            throw error
        }
        pair.close()
        try await group.shutdownGracefully()
    }

    /// Polls `condition` every 10 ms for up to 10 s (a generous bound, not a timing assertion).
    private func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1_000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

private struct SocketPair {
    let near: CInt
    let far: CInt

    init() throws {
        var fds: [CInt] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw IPCError(.internal, "socketpair failed: errno \(errno)")
        }
        near = fds[0]
        far = fds[1]
    }

    func close() {
        _ = Glibc.close(near)
        _ = Glibc.close(far)
    }
}
