import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Whether the machine is short of CPU right now, from the kernel's pressure stall information
/// (`/proc/pressure/cpu`, `some … total=`: microseconds during which a runnable task waited for a CPU).
///
/// `ReplyBusyPoller` asks before each spin: spinning for a reply only pays when a CPU would otherwise go idle (and
/// halt, which makes waking it slow); when tasks are already waiting for CPUs, a spinning loop takes a CPU from
/// them, the peer that must write the reply among them (measured: `GET /api/positions` under wrk, about 8 % more
/// requests/s and a quarter off the p50 with spinning off; docs/performance.md). The share of the last interval
/// spent stalled is read again at most every `interval`, on the caller's thread; where the file cannot be read
/// (an older kernel, PSI disabled, a container without it) the machine never counts as short.
public final class CPUPressure: Sendable {
    public static let shared = CPUPressure(read: CPUPressure.readStallTotal)

    /// Above this share of wall time with a task waiting for a CPU, the machine is short of CPU.
    static let threshold = 0.10
    static let interval = TimeAmount.milliseconds(100)

    private struct Sample {
        var at: NIODeadline
        var stalledMicroseconds: UInt64
    }

    private struct State {
        var last: Sample?
        var high = false
        var unavailable = false
    }

    private let read: @Sendable () -> UInt64?
    private let state = NIOLockedValueBox(State())

    /// `read`: the cumulative stall time in microseconds, nil when unknown.
    init(read: @escaping @Sendable () -> UInt64?) {
        self.read = read
    }

    /// True while the last interval measured had tasks waiting for a CPU more than `threshold` of the time.
    public func isHigh(now: NIODeadline = .now()) -> Bool {
        state.withLockedValue { state in
            if state.unavailable { return false }
            if let last = state.last, now - last.at < Self.interval { return state.high }
            guard let total = read() else {
                state.unavailable = true
                return false
            }
            if let last = state.last, total >= last.stalledMicroseconds {
                let elapsed = Double((now - last.at).nanoseconds) / 1_000
                state.high = elapsed > 0 && Double(total - last.stalledMicroseconds) / elapsed > Self.threshold
            }
            state.last = Sample(at: now, stalledMicroseconds: total)
            return state.high
        }
    }

    /// The `some` line's `total=` of `/proc/pressure/cpu`.
    @Sendable static func readStallTotal() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/pressure/cpu", encoding: .utf8) else { return nil }
        return stallTotal(in: text)
    }

    static func stallTotal(in text: String) -> UInt64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("some ") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("total=") }) else { return nil }
        return UInt64(field.dropFirst("total=".count))
    }
}
