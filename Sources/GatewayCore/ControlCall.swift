import BagbotIPC

/// One admin control call (routerd's pause and resume, mindsetd's lock and unlock) whose effect can outlive the
/// gateway's wait: a timeout only gives up waiting, and the daemon carries the change out when it gets to it. So a
/// timeout, a lost connection or an answer that cannot be read is not "failed" but 504 `outcome_unknown` (check
/// `bagbot status`); the daemon's own refusals keep their meaning (`refusal`).
enum ControlCall {
    static let outcomeUnknown: Set<IPCErrorCode> = [.timeout, .connectionLost, .internal]

    static func ask<T>(_ daemon: String, refusal: (IPCError) -> APIError, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as IPCError where !outcomeUnknown.contains(error.code) {
            throw refusal(error)
        } catch {
            let cause = (error as? IPCError).map { "\($0.code.rawValue): \($0.message)" } ?? "\(error)"
            throw APIError(.gatewayTimeout, "outcome_unknown",
                           "\(daemon) gave no usable answer (\(cause)); the change may still take effect; check `bagbot status`")
        }
    }

    /// routerd's refusals, as every routerd route maps them.
    static func routerRefusal(_ error: IPCError) -> APIError { APIError.from(error, daemon: "routerd") }

    /// mindsetd's refusals, as `DaemonCall` maps them (a refused value is 422).
    static func mindsetRefusal(_ error: IPCError) -> APIError {
        error.code == .badRequest ? APIError.unprocessable(error.message) : APIError.from(error, daemon: "mindsetd")
    }
}
