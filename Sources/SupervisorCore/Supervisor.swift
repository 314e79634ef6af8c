#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Runs the four daemons as child processes, as systemd would: a child that exits abnormally is
/// restarted after a second (`Restart=on-failure`) while the others keep running; stopping sends
/// SIGTERM to all and waits for them.
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
        var processes: [String: Process] = [:]
        var stopping = false
        var restarts: [String: Int] = [:]
    }

    private let children: [Child]
    private let logger: Logger
    private let restartDelay: TimeInterval
    private let state = NIOLockedValueBox(State())
    private let finished = NIOLockedValueBox<[CheckedContinuation<Void, Never>]>([])

    public init(children: [Child], logger: Logger, restartDelay: TimeInterval = 1) {
        self.children = children
        self.logger = logger
        self.restartDelay = restartDelay
    }

    public func start() throws {
        for child in children { try launch(child) }
    }

    public func pid(of name: String) -> Int32? {
        state.withLockedValue { $0.processes[name]?.processIdentifier }
    }

    public func restartCount(of name: String) -> Int {
        state.withLockedValue { $0.restarts[name] ?? 0 }
    }

    private func launch(_ child: Child) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: child.executable)
        process.arguments = child.arguments
        process.terminationHandler = { [weak self] finished in
            self?.exited(child, process: finished)
        }
        try process.run()
        state.withLockedValue { $0.processes[child.name] = process }
        logger.info("started", metadata: ["daemon": "\(child.name)", "pid": "\(process.processIdentifier)"])
    }

    private func exited(_ child: Child, process: Process) {
        let status = process.terminationStatus
        let bySignal = process.terminationReason == .uncaughtSignal
        let (stopping, allGone) = state.withLockedValue { state -> (Bool, Bool) in
            if state.processes[child.name] === process { state.processes[child.name] = nil }
            return (state.stopping, state.processes.isEmpty)
        }
        if stopping {
            logger.info("stopped", metadata: ["daemon": "\(child.name)", "status": "\(bySignal ? "signal \(status)" : "exit \(status)")"])
            if allGone { finished.withLockedValue { waiting in waiting.forEach { $0.resume() }; waiting.removeAll() } }
            return
        }
        guard bySignal || status != 0 else {
            logger.notice("exited cleanly; not restarting", metadata: ["daemon": "\(child.name)"])
            return
        }
        logger.error("exited abnormally; restarting in \(restartDelay)s",
                     metadata: ["daemon": "\(child.name)", "status": "\(bySignal ? "signal \(status)" : "exit \(status)")"])
        DispatchQueue.global().asyncAfter(deadline: .now() + restartDelay) { [self] in
            guard !state.withLockedValue({ $0.stopping }) else { return }
            state.withLockedValue { $0.restarts[child.name, default: 0] += 1 }
            do {
                try launch(child)
            } catch {
                logger.critical("cannot restart", metadata: ["daemon": "\(child.name)", "error": "\(error)"])
            }
        }
    }

    /// SIGTERM to every child, then wait; a child still running after `timeout` gets SIGKILL.
    public func stop(timeout: TimeInterval = 15) async {
        let running = state.withLockedValue { state -> [Process] in
            state.stopping = true
            return Array(state.processes.values)
        }
        guard !running.isEmpty else { return }
        // Reverse start order: the gateway first, mindsetd last, so nothing is asked of a stopped peer.
        for name in children.map(\.name).reversed() {
            if let process = state.withLockedValue({ $0.processes[name] }) { kill(process.processIdentifier, SIGTERM) }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLockedValue { $0.processes.isEmpty }
                    if done { continuation.resume() } else { self.finished.withLockedValue { $0.append(continuation) } }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                for process in self.state.withLockedValue({ Array($0.processes.values) }) {
                    self.logger.error("did not stop in time; killing", metadata: ["pid": "\(process.processIdentifier)"])
                    kill(process.processIdentifier, SIGKILL)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
