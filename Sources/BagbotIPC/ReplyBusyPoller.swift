import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// Keeps an event loop awake for a short while after a request goes out, so the reply is read the moment it
/// arrives.
///
/// Why: an event loop with nothing to do sleeps in `epoll_wait`, and its idle vCPU halts. Waking it again
/// when the reply arrives goes through the hypervisor and costs more than the whole rest of a call (20–40 µs
/// of a 45–80 µs round trip on the 2-vCPU VM this was measured on; see docs/performance.md). While calls are
/// outstanding, the poller instead keeps the loop busy: it checks the loop's client sockets with a
/// non-blocking `poll`, and re-queues itself behind the loop's other work until one of them is readable (then
/// the loop's own `epoll_wait` returns at once and reads it), or until the budget runs out (then the loop
/// sleeps as usual). The price is CPU: at most one budget of spinning per call, and other channels on the
/// same loop (not registered here) are read at most one budget late.
///
/// It never spins where the client and its peer can only run on one and the same CPU, or where the peer is
/// this very process (`pays(on:)`): there the spinning loop would only delay the peer it waits for (measured
/// on one CPU: p99 three times worse). Nor while the machine is short of CPU (`CPUPressure`): with tasks waiting
/// for a CPU, none is about to go idle, and a spin would take one from them.
///
/// One poller per loop (`for(_:)`); every method must be called on that loop.
public final class ReplyBusyPoller: @unchecked Sendable {
    private let eventLoop: EventLoop
    /// Touched only on the loop. `pollfd`s of the loop's client connections.
    private var watched: [pollfd] = []
    private var spinning = false
    private var deadline = NIODeadline.distantPast
    private var currentBudget = TimeAmount.zero
    /// No new spin before this: set when a spin used up its budget.
    private var restUntil = NIODeadline.distantPast

    private let pressure: CPUPressure

    private static let pollers = PerEventLoop { ReplyBusyPoller(eventLoop: $0, pressure: .shared) }

    /// Whether busy-polling for replies on `descriptor`, a connected Unix socket, can help. See
    /// `pays(machineCPUs:ownCPUs:peer:)`.
    static func pays(on descriptor: CInt) -> Bool {
        let peer = PeerCredentials.of(descriptor: descriptor).flatMap { credentials -> PeerPlacement? in
            guard credentials.pid > 0 else { return nil }
            return PeerPlacement(isThisProcess: credentials.pid == getpid(), cpus: allowedCPUs(ofProcess: credentials.pid))
        }
        return pays(machineCPUs: System.coreCount, ownCPUs: allowedCPUs(ofProcess: getpid()), peer: peer)
    }

    /// Where the peer process may run, as far as the system tells.
    struct PeerPlacement {
        var isThisProcess: Bool
        /// Its affinity mask (one bit per CPU); nil if unreadable.
        var cpus: [UInt8]?
    }

    /// Busy-polling pays when the machine (as the cgroup's CPU quota and cpuset allow) has more than one
    /// CPU, the peer is another process (a server in this process answers on these same loops, which the
    /// spinning would hold up), and the client and the peer together may run on more than one CPU (their
    /// affinity masks, as `taskset` sets them); an unknown mask counts as any CPU.
    static func pays(machineCPUs: Int, ownCPUs: [UInt8]?, peer: PeerPlacement?) -> Bool {
        guard machineCPUs > 1 else { return false }
        if peer?.isThisProcess == true { return false }
        guard let ownCPUs, let theirs = peer?.cpus else { return true }
        var union = ownCPUs
        for (index, byte) in theirs.enumerated() where index < union.count { union[index] |= byte }
        return union.reduce(0) { $0 + $1.nonzeroBitCount } > 1
    }

    /// The affinity mask of process `pid` (its main thread's, which `taskset` sets for every thread), one bit
    /// per CPU; nil if unreadable.
    static func allowedCPUs(ofProcess pid: pid_t) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 128)  // the size of glibc's cpu_set_t: 1,024 CPUs
        let size = bytes.count
        guard bytes.withUnsafeMutableBytes({ c_sched_getaffinity(pid, size, $0.baseAddress!) }) == 0 else { return nil }
        return bytes
    }

    static func `for`(_ eventLoop: EventLoop) -> ReplyBusyPoller {
        pollers.value(for: eventLoop)
    }

    init(eventLoop: EventLoop, pressure: CPUPressure) {
        self.eventLoop = eventLoop
        self.pressure = pressure
    }

    /// Adds a connection's socket; call before its first request, and `unwatch` it when the connection
    /// closes (until then a closed descriptor only ends spins early).
    func watch(_ descriptor: CInt) {
        eventLoop.preconditionInEventLoop()
        watched.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
    }

    /// Removes one registration of `descriptor`: a closed connection's number may already have been reused
    /// by a new connection that registered it again.
    func unwatch(_ descriptor: CInt) {
        eventLoop.preconditionInEventLoop()
        if let index = watched.firstIndex(where: { $0.fd == descriptor }) { watched.remove(at: index) }
    }

    /// Spins for up to `budget` from now, unless a socket becomes readable first (a connection where spinning does not
    /// pay passes zero), or not at all while the machine is short of CPU. Called when a request is written, and when
    /// replies were read while others are still outstanding. A spin already running is not extended, and after a spin
    /// that used up its budget the loop rests (sleeps and selects as usual) for one budget before the next: other
    /// channels on the loop are never kept unread for more than about one budget, however many requests keep going out.
    func arm(for budget: TimeAmount) {
        eventLoop.preconditionInEventLoop()
        guard budget > .zero, !spinning, !watched.isEmpty else { return }
        let now = NIODeadline.now()
        guard now >= restUntil, !pressure.isHigh(now: now) else { return }
        deadline = now + budget
        currentBudget = budget
        spinning = true
        // Queued behind whatever the loop has to do already (the flush of the request among it).
        eventLoop.execute { self.spin() }
    }

    /// For tests, on the loop: whether the loop is being kept awake.
    var isSpinning: Bool {
        eventLoop.preconditionInEventLoop()
        return spinning
    }

    private func spin() {
        let ready = watched.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 0) }
        if ready != 0 || watched.isEmpty {
            // Readable, hung up, in error, or `poll` itself failed: the loop's own select takes it from here.
            spinning = false
            Self.statistics.withLockedValue { $0.endedByReadiness += 1 }
            return
        }
        let now = NIODeadline.now()
        guard now < deadline else {
            spinning = false
            restUntil = now + currentBudget
            Self.statistics.withLockedValue { $0.endedByBudget += 1 }
            return
        }
        // NIO runs tasks queued by tasks before it selects again, so this keeps the loop from sleeping while
        // still running every other task queued on it in turn.
        eventLoop.execute { self.spin() }
    }

    /// How spins ended, in this whole process (every loop's poller); reported in each daemon's health.
    public struct Statistics: Sendable, Equatable {
        /// A watched socket became readable (usually the reply): the spin paid off.
        public var endedByReadiness = 0
        /// The budget ran out first: the loop then slept as it would have without polling.
        public var endedByBudget = 0
    }

    private static let statistics = NIOLockedValueBox(Statistics())

    public static var processStatistics: Statistics { statistics.withLockedValue { $0 } }
}

// Glibc's module map exports sched_getaffinity only under _GNU_SOURCE.
@_silgen_name("sched_getaffinity")
private func c_sched_getaffinity(_ pid: pid_t, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32
