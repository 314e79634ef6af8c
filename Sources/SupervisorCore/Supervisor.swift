#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import Subprocess
import SystemPackage

/// Runs the four daemons as child processes, as systemd would: a child that exits abnormally is
/// restarted after a second (`Restart=on-failure`) while the others keep running; stopping sends
/// SIGTERM to all and waits for them. Children are spawned with swift-subprocess, not Foundation's `Process`,
/// whose `run()` can crash the process that spawns on Linux (docs/reliability.md, "A known crash in Foundation's
/// `Process`"); each gets /dev/null as its input, this process's output and error, default signal dispositions and
/// a session of its own (a Ctrl-C in the terminal reaches `bagbot up`, which stops them in order).
public final class Supervisor: Sendable {
    public struct Child: Sendable {
        public var name: String
        public var executable: String
        public var arguments: [String]

        public init(name: String, executable: String, arguments: [String]) {
            self.name = name
            self.executable = executable
            self.arguments = arguments
        }
    }

    private struct State {
        /// The children running now, by name (a child between an exit and its restart has none).
        var pids: [String: pid_t] = [:]
        var stopping = false
        var restarts: [String: Int] = [:]
        /// `stop()` waiting for the last child to end (under the same lock as `pids`, so no end goes unheard).
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let children: [Child]
    private let logger: Logger
    private let restartDelay: Duration
    private let state = NIOLockedValueBox(State())

    public init(children: [Child], logger: Logger, restartDelay: Duration = .seconds(1)) {
        self.children = children
        self.logger = logger
        self.restartDelay = restartDelay
    }

    /// Starts every child, in order; if one cannot be started, stops the ones before it (in sessions of their own, no
    /// Ctrl-C would reach them) and throws.
    public func start() async throws {
        for child in children {
            do {
                try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
                    Task { await self.supervise(child, started: started) }
                }
            } catch {
                await stop()
                throw error
            }
        }
    }

    public func pid(of name: String) -> Int32? {
        state.withLockedValue { $0.pids[name] }
    }

    public func restartCount(of name: String) -> Int {
        state.withLockedValue { $0.restarts[name] ?? 0 }
    }

    /// Runs `child` until it exits, and again after `restartDelay` while it exits abnormally and nothing stops it.
    /// `started` hears of its first start (or why it could not).
    private func supervise(_ child: Child, started: CheckedContinuation<Void, any Error>) async {
        let firstStart = NIOLockedValueBox<CheckedContinuation<Void, any Error>?>(started)
        var options = PlatformOptions()
        options.createSession = true
        while true {
            let status: TerminationStatus
            do {
                status = try await run(
                    .path(FilePath(child.executable)), arguments: Arguments(child.arguments), platformOptions: options,
                    input: .none, output: .currentStandardOutput, error: .currentStandardError
                ) { execution in
                    let pid = execution.processIdentifier.value
                    state.withLockedValue { $0.pids[child.name] = pid }
                    logger.info("started", metadata: ["daemon": "\(child.name)", "pid": "\(pid)"])
                    firstStart.withLockedValue { $0.take() }?.resume()
                }.terminationStatus
            } catch {
                state.withLockedValue { $0.pids[child.name] = nil }
                if let started = firstStart.withLockedValue({ $0.take() }) {
                    started.resume(throwing: error)
                } else {
                    logger.critical("cannot restart", metadata: ["daemon": "\(child.name)", "error": "\(error)"])
                    noteGone()
                }
                return
            }
            let stopping = state.withLockedValue { state in
                state.pids[child.name] = nil
                return state.stopping
            }
            let how: String
            switch status {
            case .exited(let code): how = "exit \(code)"
            case .signaled(let signal): how = "signal \(signal)"
            }
            if stopping {
                logger.info("stopped", metadata: ["daemon": "\(child.name)", "status": "\(how)"])
                noteGone()
                return
            }
            guard !status.isSuccess else {
                logger.notice("exited cleanly; not restarting", metadata: ["daemon": "\(child.name)"])
                return
            }
            logger.error("exited abnormally; restarting in \(restartDelay)", metadata: ["daemon": "\(child.name)", "status": "\(how)"])
            try? await Task.sleep(for: restartDelay)
            let stillWanted = state.withLockedValue { state in
                if !state.stopping { state.restarts[child.name, default: 0] += 1 }
                return !state.stopping
            }
            guard stillWanted else {
                noteGone()
                return
            }
        }
    }

    /// A child ended while stopping (or will not come back): `stop()` is done once none runs.
    private func noteGone() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard state.stopping, state.pids.isEmpty else { return [] }
            defer { state.stopWaiters.removeAll() }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// SIGTERM to every child, then wait; a child still running after `timeout` gets SIGKILL.
    public func stop(timeout: Duration = .seconds(15)) async {
        let anyRunning = state.withLockedValue { state -> Bool in
            state.stopping = true
            return !state.pids.isEmpty
        }
        guard anyRunning else { return }
        // Reverse start order: the gateway first, mindsetd last, so nothing is asked of a stopped peer.
        for name in children.map(\.name).reversed() {
            if let pid = state.withLockedValue({ $0.pids[name] }) { kill(pid, SIGTERM) }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLockedValue { state -> Bool in
                        if state.pids.isEmpty { return true }
                        state.stopWaiters.append(continuation)
                        return false
                    }
                    if done { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                for pid in self.state.withLockedValue({ Array($0.pids.values) }) {
                    self.logger.error("did not stop in time; killing", metadata: ["pid": "\(pid)"])
                    kill(pid, SIGKILL)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
