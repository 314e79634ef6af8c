/// An actor whose operations must not interleave at their awaits. Actor isolation alone lets another call
/// in whenever one suspends (at a database write, a venue call), so a tick could fill an order between its
/// execution and its record. `exclusively` runs one section at a time, first come, first served, and hands
/// the section to the next waiter directly, so a newcomer cannot slip in between.
protocol ExclusiveSections: Actor {
    var gate: ExclusiveGate { get set }
}

/// The state behind `ExclusiveSections.exclusively`.
struct ExclusiveGate {
    var busy = false
    var waiting: [CheckedContinuation<Void, Never>] = []
}

extension ExclusiveSections {
    func exclusively<T>(_ body: () async throws -> T) async rethrows -> T {
        if gate.busy {
            await withCheckedContinuation { gate.waiting.append($0) }
        } else {
            gate.busy = true
        }
        defer {
            if gate.waiting.isEmpty {
                gate.busy = false
            } else {
                gate.waiting.removeFirst().resume()
            }
        }
        return try await body()
    }
}
