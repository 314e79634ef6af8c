import Foundation
import BagbotDomain
import NIOConcurrencyHelpers
@testable import RouterCore

/// A venue that can be told to misbehave as live ones do: time out before or after executing, answer 5xx
/// after executing, lose its connection, or not know an order for a while. It executes market orders at a
/// fixed price and keeps what it executed, so tests can check that nothing ran twice.
actor ScriptedVenue: TradingVenue {
    nonisolated let id: Venue
    let price: ExactDecimal
    private var rules: [SymbolRules]

    enum Behaviour: Sendable {
        /// Fill at once.
        case fill
        /// Accept and leave working (a resting order).
        case rest
        /// Refuse, with this reason.
        case reject(String)
        /// Time out before the order reaches the venue: nothing executes.
        case timeoutBeforeExecuting
        /// Execute, then lose the answer (a timeout, a 5xx, a dropped connection after the request went out).
        case failAfterExecuting
        /// Not connected: nothing is sent.
        case unavailable
        /// Execute, but answer that the id is a duplicate (as an exchange that got the order twice would).
        case duplicateAfterExecuting
    }

    var behaviour: Behaviour = .fill
    /// Lookups of an order the venue has that still answer "unknown order" (an exchange slow to show it).
    var hiddenLookups = 0
    private(set) var executed: [String: VenueOrderReport] = [:]
    private var requests: [String: VenueOrderRequest] = [:]
    private(set) var placeCalls: [String] = []
    private(set) var lookups = 0
    private var handler: (@Sendable (VenueEvent) async -> Void)?

    init(id: Venue, price: ExactDecimal = 100, symbols: [String] = ["BTCUSDT"]) {
        self.id = id
        self.price = price
        rules = symbols.map(RouterFixture.looseRules)
    }

    func set(_ behaviour: Behaviour) { self.behaviour = behaviour }
    /// What the venue says stops every request to it (a ban), while set.
    var blocked: String?
    func setBlocked(_ reason: String?) { blocked = reason }
    func blockedReason() -> String? { blocked }
    /// While set, a cancel is carried out but its answer is lost.
    var loseCancelAnswers = false
    func setLoseCancelAnswers(_ lose: Bool) { loseCancelAnswers = lose }
    /// Makes an order the venue has working (it reached the venue late, and rests).
    func restLate(_ clientOrderId: String) {
        guard let request = requests[clientOrderId] else { return }
        executed[clientOrderId] = report(request, status: .acknowledged)
    }
    func hideNextLookups(_ count: Int) { hiddenLookups = count }
    /// What the venue will say of an order from now on (its look-ups answer this).
    func setReport(_ report: VenueOrderReport) { executed[report.clientOrderId] = report }
    /// Runs during the next look-up, after its answer is read (what happens at the venue while the answer travels).
    var duringNextLookup: (@Sendable () async -> Void)?
    func setDuringNextLookup(_ work: @escaping @Sendable () async -> Void) { duringNextLookup = work }

    /// Executes an order the way a venue does when it appears there late (a delayed send).
    func executeLate(_ clientOrderId: String) {
        guard let request = requests[clientOrderId] else { return }
        executed[clientOrderId] = report(request, status: .filled)
    }

    func symbolRules() -> [SymbolRules] { rules }

    /// Each order's permission as its `place(_:sendingOnce:)` found it on arrival (nil: routerd had not decided yet).
    nonisolated let arrivals = NIOLockedValueBox<[String: Bool?]>([:])
    /// What each order's permission came to.
    private(set) var decisions: [String: Bool] = [:]
    /// Runs once an order's permission is granted, before the venue places it.
    private var onGranted: (@Sendable (String) async -> Void)?
    func setOnGranted(_ work: @escaping @Sendable (String) async -> Void) { onGranted = work }

    func place(_ request: VenueOrderRequest, sendingOnce permission: SendPermission) async throws -> VenueOrderReport {
        arrivals.withLockedValue { $0[request.clientOrderId] = .some(permission.isGranted) }
        let granted = await permission.decision()
        decisions[request.clientOrderId] = granted
        guard granted else { throw VenueError.unavailable(SendPermission.refusedReason) }
        await onGranted?(request.clientOrderId)
        return try await place(request)
    }

    func place(_ request: VenueOrderRequest) async throws -> VenueOrderReport {
        placeCalls.append(request.clientOrderId)
        requests[request.clientOrderId] = request
        guard executed[request.clientOrderId] == nil else { throw VenueError.rejected("duplicate client order id") }
        switch behaviour {
        case .fill:
            executed[request.clientOrderId] = report(request, status: .filled)
        case .rest:
            executed[request.clientOrderId] = report(request, status: .acknowledged)
        case .reject(let reason):
            throw VenueError.rejected(reason)
        case .timeoutBeforeExecuting:
            throw VenueError.unknownOutcome("timed out after 10 s")
        case .failAfterExecuting:
            executed[request.clientOrderId] = report(request, status: .filled)
            throw VenueError.unknownOutcome("HTTP 503 Service Unavailable")
        case .unavailable:
            throw VenueError.unavailable("not connected")
        case .duplicateAfterExecuting:
            executed[request.clientOrderId] = report(request, status: .acknowledged)
            throw VenueError.duplicate("-2010 Duplicate order sent.")
        }
        return executed[request.clientOrderId]!
    }

    func cancel(clientOrderId: String, symbol: String) async throws -> VenueOrderReport {
        guard var order = executed[clientOrderId] else { throw VenueError.rejected("unknown order") }
        if order.status == .acknowledged {
            order.status = .cancelled
            executed[clientOrderId] = order
        }
        if loseCancelAnswers { throw VenueError.unknownOutcome("timed out") }
        return order
    }

    func order(clientOrderId: String, symbol: String) async throws -> VenueOrderReport? {
        lookups += 1
        if case .unavailable = behaviour { throw VenueError.unavailable("not connected") }
        if hiddenLookups > 0 {
            hiddenLookups -= 1
            return nil
        }
        let answer = executed[clientOrderId]
        if let work = duringNextLookup {
            duringNextLookup = nil
            await work()
        }
        return answer
    }

    func openOrders() async throws -> [VenueOrderReport] { executed.values.filter { !$0.status.isFinal } }
    func fills(since: Date) async throws -> [VenueFill] { executed.values.flatMap(\.fills) }
    /// What the venue reports holding (set by a test).
    var held: [AssetBalance] = []
    func setHeld(_ balances: [AssetBalance]) { held = balances }
    /// What `valuationPairs` answers: prices of held assets no symbol of this venue trades.
    var heldAssetPairs: [CurrencyConverter.Pair] = []
    func setHeldAssetPairs(_ pairs: [CurrencyConverter.Pair]) { heldAssetPairs = pairs }
    func valuationPairs() async -> [CurrencyConverter.Pair] { heldAssetPairs }
    private(set) var balanceReads = 0
    /// While set, a balances read does not answer (a REST round trip to a slow exchange) until it is cleared.
    var holdBalances = false
    func setHoldBalances(_ hold: Bool) { holdBalances = hold }
    func balances() async throws -> [AssetBalance] {
        balanceReads += 1
        while holdBalances { try await Task.sleep(for: .milliseconds(1)) }
        return held
    }

    func positions() async throws -> [Position] {
        var net: [String: ExactDecimal] = [:]
        for fill in executed.values.flatMap(\.fills) {
            net[fill.symbol] = try (net[fill.symbol] ?? 0) + fill.side.signed(fill.quantity)
        }
        return net.map { Position(venue: id, symbol: $0.key, quantity: $0.value, averagePrice: price, realizedPnl: 0) }
    }


    func setEventHandler(_ handler: @escaping @Sendable (VenueEvent) async -> Void) { self.handler = handler }

    /// Fills a working order as the market would, and reports it.
    func fillWorking(_ clientOrderId: String) async {
        guard let request = requests[clientOrderId], executed[clientOrderId]?.status == .acknowledged else { return }
        let filled = report(request, status: .filled)
        executed[clientOrderId] = filled
        await handler?(.order(filled))
    }

    /// Reads its rules again and finds them changed, as Binance's exchangeInfo after a -1013.
    func changeRules(_ changed: [SymbolRules]) async {
        rules = changed
        await handler?(.rules(changed))
    }

    /// Tells routerd the connection is back (it reconciles this venue's orders).
    func reconnect() async { await handler?(.connection(.connected)) }
    func disconnect() async { await handler?(.connection(.disconnected)) }

    private func report(_ request: VenueOrderRequest, status: OrderStatus) -> VenueOrderReport {
        let fills = status == .filled
            ? [VenueFill(fillId: "\(id.rawValue)-\(request.clientOrderId)", clientOrderId: request.clientOrderId, symbol: request.symbol,
                         side: request.side, quantity: request.quantity, price: price, fee: 0, time: Date())]
            : []
        return VenueOrderReport(clientOrderId: request.clientOrderId, exchangeOrderId: "x-\(request.clientOrderId)", status: status,
                                filledQuantity: status == .filled ? request.quantity : 0, averagePrice: status == .filled ? price : nil,
                                fills: fills, time: Date())
    }
}
