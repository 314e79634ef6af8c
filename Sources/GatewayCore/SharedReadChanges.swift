import Synchronization

/// How many changes the gateway has passed on or heard of: every API request other than a shared read (an order, a
/// cancel, a pause, any other call to a daemon, when it ends) and every event a daemon streams to it. A shared read's
/// call already on its way serves a request that comes later only while this count is what it was when the call
/// started (`CoalescedRead`), so no answer misses a change the gateway knew of when the request came.
final class SharedReadChanges: Sendable {
    private let count = Atomic<UInt64>(0)

    var current: UInt64 { count.load(ordering: .acquiring) }

    func noteChange() {
        count.add(1, ordering: .releasing)
    }
}
