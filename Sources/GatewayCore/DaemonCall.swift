import BagbotIPC

/// One call to a daemon behind a route, its errors as the API's (`APIError.from`), except that a `bad_request`
/// answer is the daemon refusing a value of a well-formed request: 422 `invalid_value` with its reason. A cancellation
/// stays a `CancellationError`.
enum DaemonCall {
    static func ask<T>(_ daemon: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as IPCError where error.code == .badRequest {
            throw APIError.unprocessable(error.message)
        } catch let error as CancellationError {
            // The caller's own cancellation, not the daemon's answer (`CoalescedRead` tells the two apart by it).
            throw error
        } catch {
            throw APIError.from(error, daemon: daemon)
        }
    }
}
