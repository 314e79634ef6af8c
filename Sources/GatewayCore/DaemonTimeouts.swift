/// How long the gateway waits for a daemon on the calls whose effect outlives a timeout (the daemon may still carry
/// them out): long enough that a busy daemon answers, since a call given up on is answered "outcome unknown".
struct DaemonTimeouts: Sendable {
    /// A manual order through arsenald (mindsetd, then routerd and its venue, behind it).
    var placeOrder: Duration = .seconds(15)
    /// pause, resume (routerd's switch waits for an order being placed) and the mindset's lock and unlock
    /// (`gateway.control_timeout_ms`).
    var control: Duration = .seconds(30)
}
