/// A trade's request id: made by arsenald (`<run>-<n>`, `m-<idempotency key>`), carried by the messages of the trade,
/// the IPC envelope's `rid`, and the task that works on the trade (`current`).
public enum RequestId {
    public static let maximumLength = 128

    /// The trade the running task works on. The IPC server sets it for a call's handler from the envelope's `rid`,
    /// arsenald for a signal's trade path; every log line written meanwhile carries it as `request_id` (the log
    /// handler's metadata provider), and every IPC call made meanwhile sends it as its `rid`. So a line deep in a
    /// venue's code, or a lookup made on the trade's behalf, joins the trade's trace without being handed the id.
    @TaskLocal public static var current: String?

    /// 1 to 128 visible ASCII characters (no spaces, no control characters): safe in a log line and a query. What
    /// every carrier checks: the envelope's `rid`, `GET /api/logs?requestId=`.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        return (1...maximumLength).contains(bytes.count) && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
