import BagbotIPC

/// Which failures of `router.placeOrder` mean the order certainly did not go out. Only routerd's explicit refusals
/// (each thrown before the order is recorded as sent: docs/ipc.md, `router.placeOrder`), a refusal of the frame
/// before any handler ran, and a call the client never wrote (`unavailable`). Anything else — a timeout, a lost
/// connection, an answer the client could not read (`internal`), an error of another kind — leaves the order's
/// fate open: it may be at the venue, so it is confirmed by looking it up, never called "not sent".
enum PlaceRefusal {
    static let notSentCodes: Set<IPCErrorCode> = [
        // routerd's refusals: a bad field or rule, a reused id or a symbol being settled, the trading switch, still
        // settling the last run, and an order it could not record (so never sent).
        .badRequest, .conflict, .tradingPaused, .unavailable, .notSent,
        // Refused before dispatch.
        .unknownMethod, .unsupportedVersion, .helloRequired, .frameTooLarge,
    ]

    /// routerd refused the order by one of the symbol's rules (`refused by rule step_size: …`).
    static func isRuleRefusal(_ error: Error) -> Bool {
        guard let error = error as? IPCError else { return false }
        return error.code == .badRequest && error.message.hasPrefix("refused by rule")
    }

    static func meansNotSent(_ error: Error) -> Bool {
        guard let error = error as? IPCError else { return false }
        return notSentCodes.contains(error.code)
    }
}
