import Foundation
import Logging
import NIOCore
import BagbotDomain

/// Binance Spot as a `TradingVenue`, over its signed REST API (binance-spot-api-docs, rest-api.md). Orders carry
/// BAGBOT's client order id as `newClientOrderId`, so each can always be looked up by it; an order whose answer did
/// not come is never sent again (`VenueError.unknownOutcome`: routerd looks it up). Binance accepts a second order
/// under the id of one that has *filled* ("Orders with the same newClientOrderID can be accepted only when the
/// previous one is filled"), so a resend could execute twice: this is why nothing here ever resends an order.
public actor BinanceVenue: TradingVenue {
    public nonisolated let id = Venue.binance
    let settings: BinanceSettings
    let rest: BinanceRESTClient
    let logger: Logger
    private(set) var rules: [String: SymbolRules] = [:]
    /// Symbols whose trading Binance has paused (`BREAK`, `HALT`, …), with the status: new orders are refused with it,
    /// and `exchangeInfo` is read every `pausedRulesEvery` until it says `TRADING` again.
    private var paused: [String: String] = [:]
    var pausedRulesEvery: Duration = .seconds(15)
    func setPausedRulesEvery(_ every: Duration) { pausedRulesEvery = every }  // tests
    private var rulesReadAt: Date?
    /// The account's commission per side on a market order (`GET /api/v3/account`'s `commissionRates`), given with
    /// every symbol's rules (`SymbolRules.feeRate`) so that strategies count what this account pays; a symbol's own
    /// (`GET /api/v3/account/commission`: special and tax rates included) where it was read.
    private var commissionRate: ExactDecimal?
    private var symbolCommissions: [String: ExactDecimal] = [:]
    /// Reads of the symbols' commissions finished (tests wait for the one after the start).
    private(set) var symbolCommissionReads = 0
    /// Binance's order id → BAGBOT's client order id, learnt from every answer (trades name only the order id).
    private var clientOrderIds: [Int64: String] = [:]
    private var handler: (@Sendable (VenueEvent) async -> Void)?
    /// Events before routerd set its handler (the streams start as the venue connects): kept and handed over with the
    /// handler, so a subscription or an order update of those first moments is not lost. Ticks are not kept.
    private var early: [VenueEvent] = []
    private var upkeep: Task<Void, Never>?
    private var pausedWatch: Task<Void, Never>?
    private var stopped = false
    private var marketStream: Task<Void, Never>?
    private var market: BinanceMarketStream?
    private var orderPoll: Task<Void, Never>?
    private var userStream: Task<Void, Never>?
    private let credential: BinanceCredential
    /// Orders this venue last reported as working (not final), by client order id: what the poll watches.
    private var working: [String: (symbol: String, status: OrderStatus, filled: ExactDecimal)] = [:]
    /// Balances kept current by the user data stream; served while it is subscribed.
    private var account = BinanceAccountCache()
    /// Each symbol's last traded price from the market stream, and when: what a holding is marked at.
    private var marks: [String: (price: ExactDecimal, at: ContinuousClock.Instant)] = [:]
    /// How old a stream mark may be before a holding is marked at Binance's last price over REST instead: no older
    /// than routerd's own `account.max_price_age_seconds`, or the account would be valued on a price routerd no
    /// longer trusts from its ticks (a market stream that stopped).
    let markMaxAge: Duration
    /// The last price read of each asset a commission was paid in other than the symbol's own (BNB, "BNBUSDT"), and
    /// when: when Binance cannot be asked (a back-off, a ban), a commission is valued at it however old it is, rather
    /// than leave its order's fill unrecorded until a price comes. A fill left out is a position routerd, the
    /// strategy and its stop do not know; a fee valued at an old price is off by a fraction of a fraction of the
    /// trade (a commission is about 0.1 % of it). Older than `feePriceOldAge`, said as an error.
    private var feePrices: [String: (price: ExactDecimal, at: ContinuousClock.Instant)] = [:]
    static let feePriceOldAge: Duration = .seconds(3_600)
    /// The assets the account held at the last read of its balances (any amount), and the prices that value those no
    /// configured symbol trades (`BinanceHeldAssetPrices`), read in the background by `heldAssetPricing`.
    var heldAssets: Set<String> = []
    var heldAssetPrices = BinanceHeldAssetPrices()
    /// The held assets last said to have no market to price them through (logged when that changes).
    var reportedUnpriceable: [String] = []
    private(set) var heldAssetPricing: Task<Void, Never>?
    /// The refresh of those prices under way, if any: the next one waits for it.
    var heldAssetRefresh: Task<Void, Never>?
    /// Reads of those prices finished (tests wait for them).
    var heldAssetPriceReads = 0
    /// Orders this venue reported final: their user-stream events cost no lookup.
    private var final = FinalOrderMemory()
    /// Orders being placed, with the last user-stream event about each that came before the answer (Binance sends the
    /// `executionReport` as it answers): handled once the answer is in, when it usually says nothing new.
    private var placing: [String: BinanceUserStream.Event?] = [:]
    /// Working orders the user stream said changed, still to be looked up, in the order said (`lookUpChanged`).
    private var changed: [(clientOrderId: String, symbol: String)] = []
    private var lookingUpChanged = false
    /// While the user data stream is subscribed the poll is only a safety net, and runs every 30 s.
    private var userStreamUp = false
    private var lastPoll = ContinuousClock.now

    init(settings: BinanceSettings, credential: BinanceCredential, blockFile: String? = nil, markMaxAge: Duration = .seconds(60),
         logger: Logger) {
        self.settings = settings
        self.credential = credential
        self.markMaxAge = markMaxAge
        var logger = logger
        logger[metadataKey: "venue"] = "binance"
        self.logger = logger
        rest = BinanceRESTClient(baseURL: settings.resolvedRestURL, credential: credential, recvWindowMilliseconds: settings.recvWindowMs,
                                 blockFile: blockFile, logger: logger)
    }

    /// Connects: reads Binance's clock and the symbols' rules (a venue that cannot do either does not start), then
    /// keeps both fresh in the background.
    /// `blockFile`: where a ban or back-off is saved across restarts. During one, the venue does not start and sends
    /// nothing (routerd stops with the reason, and systemd's restarts send nothing either).
    /// `markMaxAge`: how old a market-stream mark may be before a holding is marked at Binance's price over REST.
    /// `upkeep`: how often the clock and the rules are read again (nil: `clock_sync_minutes`, `rules_refresh_minutes`;
    /// tests give seconds).
    public static func start(settings: BinanceSettings, credential: BinanceCredential, blockFile: String? = nil,
                             markMaxAge: Duration = .seconds(60), upkeep: (clock: Duration, rules: Duration)? = nil,
                             logger: Logger) async throws -> BinanceVenue {
        let venue = BinanceVenue(settings: settings, credential: credential, blockFile: blockFile, markMaxAge: markMaxAge, logger: logger)
        if let blocked = await venue.rest.blockedReason() {
            await venue.shutdown()
            throw BinanceVenueError(description: "Binance is refusing this machine's requests (\(blocked), saved by an earlier run); nothing is sent before then")
        }
        do {
            try await venue.rest.syncClock()
            try await venue.refreshRules()
            try await venue.checkAccount()
        } catch {
            await venue.shutdown()
            throw error
        }
        await venue.startUpkeep(every: upkeep ?? (.seconds(settings.clockSyncMinutes * 60), .seconds(settings.rulesRefreshMinutes * 60)))
        // Off the start (a slow endpoint must not hold routerd past its start timeout): the rules go out with the
        // account's rate, and each symbol's own follows as soon as it is read.
        Task { await venue.readSymbolCommissions() }
        await venue.startMarketStream()
        await venue.startUserStream()
        await venue.startOrderPoll()
        await venue.startHeldAssetPricing()
        return venue
    }

    /// "banned by Binance (HTTP 418) until …" or "rate-limited by Binance (HTTP 429) until …" while nothing may be sent:
    /// the venue's status in `router.account`.
    public func blockedReason() async -> String? {
        await rest.blockedReason()
    }

    /// "new orders held until …" after Binance's -1015 (the account's order count full): the venue's status.
    public func ordersHeldReason() async -> String? {
        await rest.ordersHeldReason()
    }

    public func shutdown() async {
        stopped = true
        upkeep?.cancel()
        upkeep = nil
        pausedWatch?.cancel()
        pausedWatch = nil
        changed.removeAll()
        for task in [marketStream, userStream, orderPoll, heldAssetPricing, heldAssetRefresh] { task?.cancel() }
        for task in [marketStream, userStream, orderPoll, heldAssetPricing, heldAssetRefresh] { await task?.value }
        (marketStream, userStream, orderPoll, heldAssetPricing) = (nil, nil, nil, nil)
        await rest.shutdown()
    }

    /// Ticks of the configured symbols from Binance's market streams, delivered as venue events.
    private func startMarketStream() {
        let rest = rest
        let stream = BinanceMarketStream(baseURL: settings.resolvedMarketStreamURL, symbols: settings.symbols, logger: logger,
                                         blockedFor: { await rest.blockedFor() }) { [weak self] tick in
            await self?.marketTick(tick)
        }
        market = stream
        marketStream = Task { await stream.run() }
    }

    /// Market ticks replaced by a newer one of their symbol before routerd took them (`BinanceMarketStream`).
    var replacedMarketTicks: Int { market?.replacedTicks ?? 0 }

    private func deliver(_ event: VenueEvent) async {
        guard let handler else {
            if case .tick = event { return }
            guard early.count < Self.earlyEventLimit else {
                // routerd's reconciliation at start looks up every order not final: none is lost for good.
                logger.warning("an event before routerd listened was dropped (too many kept)", metadata: ["event": "\(event)"])
                return
            }
            early.append(event)
            return
        }
        await handler(event)
    }

    static let earlyEventLimit = 1_000

    private func marketTick(_ tick: Tick) async {
        // A holding is valued at this mark when routerd has no fresh price of its own: only from a tick routerd would
        // take (a bid of 0, an ask under the bid, a price out of range would value it at half the ask, or at anything).
        if RequestRules.isQuotable(tick) { marks[tick.symbol] = (tick.last, .now) }
        await deliver(.tick(tick))
    }

    /// Binance's word on every change to the account's orders: routerd hears of a fill as it happens, and
    /// reconciles the venue's orders each time the subscription is made again.
    private func startUserStream() {
        let rest = rest
        let stream = BinanceUserStream(url: settings.resolvedWebSocketAPIURL, credential: credential, recvWindowMilliseconds: settings.recvWindowMs,
                                       logger: logger,
                                       timestamp: { await rest.timestampMilliseconds() }, blockedFor: { await rest.blockedFor() }) { [weak self] event in
            await self?.userStreamEvent(event)
        }
        userStream = Task { await stream.run() }
    }

    func userStreamEvent(_ event: BinanceUserStream.Event) async {
        switch event {
        case .subscribed:
            userStreamUp = true
            account.empty()  // changes while it was down were not heard
            await deliver(.connection(.connected))
        case .lost:
            userStreamUp = false
            account.empty()
            await deliver(.connection(.disconnected))
        case .balances(let changed, let updatedAt):
            account.apply(changed, updatedAt: updatedAt)
        case .balancesMoved:
            account.empty()
        case .clockRefused:
            // Refused for its timestamp: the new sample is taken whatever its round trip (see `syncClock`).
            await keepClock(afterRefusal: true)
        case .refused(let outcome, let until):
            await rest.recordRefusal(outcome, until: until)
        case .orderChanged(let clientOrderId, let symbol, let status, let filled):
            // An order this venue reported working is looked up. The report is read whole, so a duplicated,
            // reordered or missed event cannot drop a fill; an event that says what was last reported, or about an
            // order already reported final (it cannot change again), costs no lookup. An order this venue has no
            // record of (the trader's own, or routerd's from before a restart, or one given up as not found that
            // turns up later) is routerd's to judge: it asks only about its own that may still change.
            if final.contains(clientOrderId) { return }
            if placing.keys.contains(clientOrderId) {
                placing[clientOrderId] = event
                return
            }
            guard let known = working[clientOrderId] else {
                await deliver(.orderMayHaveChanged(clientOrderId: clientOrderId, symbol: symbol))
                return
            }
            if let status, let filled, BinanceOrders.status(status) == known.status, ExactDecimal(filled) == known.filled {
                return
            }
            noteChanged(clientOrderId, symbol: symbol)
        }
    }

    /// Queues a working order's look-up for `lookUpChanged`, once however many events announce it before its turn.
    private func noteChanged(_ clientOrderId: String, symbol: String) {
        if !changed.contains(where: { $0.clientOrderId == clientOrderId }) { changed.append((clientOrderId, symbol)) }
        guard !lookingUpChanged else { return }
        lookingUpChanged = true
        Task { await lookUpChanged() }
    }

    /// The queued look-ups, one at a time, beside the stream's reader: it goes on reading (balances, other orders'
    /// events) while a look-up travels, and a burst of events about one order (its partial fills) costs one look-up per
    /// round trip rather than one per event. An event that comes while its order's look-up is under way queues it
    /// again (that answer may predate the event); an order reported final meanwhile is not looked up again.
    private func lookUpChanged() async {
        while !changed.isEmpty {
            let (clientOrderId, symbol) = changed.removeFirst()
            if final.contains(clientOrderId) { continue }
            do {
                if let report = try await order(clientOrderId: clientOrderId, symbol: symbol) { await deliver(.order(report)) }
            } catch {
                logger.warning("an order Binance reported changed could not be looked up; the poll will", metadata: [
                    "client_order_id": "\(clientOrderId)", "error": "\(error)",
                ])
            }
        }
        lookingUpChanged = false
    }

    /// A signed `GET /api/v3/account` at start: a key that Binance refuses, or that may not trade, stops routerd
    /// there rather than at the first order.
    func checkAccount() async throws {
        let body: [UInt8]
        do {
            body = try await read("/api/v3/account", [("omitZeroBalances", "true")], weight: 20)
        } catch {
            throw BinanceVenueError(description: "Binance refused the API key's signed request (\(error)); check the key, its permissions and its IP list")
        }
        let account = try BinanceReports.decode(BinanceReports.Account.self, from: body, what: "GET /api/v3/account")
        guard account.canTrade == true else {
            throw BinanceVenueError(description: "Binance says this API key may not trade (canTrade is not true): enable Spot trading for it")
        }
        takeCommission(account.commissionRates)
        hold(account.balances.map { AssetBalance(asset: $0.asset, free: $0.free, locked: $0.locked) })
        // An account holding BNB may pay its commissions in it: its price is read now, so a first fill during a later
        // back-off is valued all the same.
        if account.balances.contains(where: { $0.asset == "BNB" && $0.free.isPositive }) {
            for quoteAsset in Set(rules.values.map(\.quoteAsset)).sorted() where quoteAsset != "BNB" {
                _ = try? await feePrice("BNB", in: quoteAsset)
            }
        }
    }

    /// Resting orders fill and end without BAGBOT asking: every `orderPollMs` the orders working at Binance are
    /// compared with what this venue last reported, and each that changed or is gone is looked up and delivered.
    private func startOrderPoll() {
        let interval = Duration.milliseconds(settings.orderPollMs)
        orderPoll = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.pollWorkingOrders()
            }
        }
    }

    func pollWorkingOrders() async {
        if userStreamUp, ContinuousClock.now - lastPoll < .seconds(30) { return }
        lastPoll = .now
        for symbol in Set(working.values.map(\.symbol)).sorted() {
            let open: [BinanceReports.Order]
            do {
                let body = try await read("/api/v3/openOrders", [("symbol", symbol)], weight: 6)
                open = try BinanceReports.decode([BinanceReports.Order].self, from: body, what: "GET /api/v3/openOrders")
            } catch {
                logger.warning("Binance's open orders could not be read; the next poll tries again", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
                continue
            }
            let atBinance = Dictionary(open.map { ($0.clientOrderId, $0) }, uniquingKeysWith: { first, _ in first })
            for (clientOrderId, known) in working where known.symbol == symbol {
                if let now = atBinance[clientOrderId], BinanceOrders.status(now.status) == known.status, now.executedQty == known.filled { continue }
                do {
                    guard let report = try await order(clientOrderId: clientOrderId, symbol: symbol) else { continue }
                    await deliver(.order(report))
                } catch {
                    logger.warning("a working order that changed at Binance could not be looked up; the next poll tries again", metadata: [
                        "client_order_id": "\(clientOrderId)", "error": "\(error)",
                    ])
                }
            }
        }
    }

    /// Keeps track of what was last reported of each order, for the poll.
    private func remember(_ report: VenueOrderReport, symbol: String) {
        // A fill moves balances: the next read asks Binance, in case the stream that would tell is silently dead.
        if !report.fills.isEmpty { account.empty() }
        if report.status.isFinal {
            working[report.clientOrderId] = nil
            final.insert(report.clientOrderId)
        } else {
            working[report.clientOrderId] = (symbol, report.status, report.filledQuantity)
        }
    }

    private func startHeldAssetPricing() {
        // A third of the age a price may value anything for, so that a read that failed (or timed out) leaves the
        // next one time to land; not more often than every 2 s, whatever that age (the reads weigh 24, and share
        // the weight with orders), nor less than every 20 s.
        let interval = max(.seconds(2), min(.seconds(20), markMaxAge / 3))
        heldAssetPricing = Task { [weak self] in
            while !Task.isCancelled {
                let started = ContinuousClock.now
                // Not kept while it sleeps.
                guard await self?.refreshHeldAssetPrices() != nil else { return }
                try? await Task.sleep(until: started + interval)
            }
        }
    }

    /// The clock's offset and the symbols' rules (with their commissions) read again, each on its own schedule.
    private func startUpkeep(every interval: (clock: Duration, rules: Duration)) {
        upkeep = Task { [weak self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval.clock)
                        guard let self, !Task.isCancelled else { return }
                        await self.keepClock()
                    }
                }
                group.addTask { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval.rules)
                        guard let self, !Task.isCancelled else { return }
                        await self.keepRules()
                        await self.readSymbolCommissions()
                    }
                }
            }
        }
    }

    private func keepClock(afterRefusal: Bool = false) async {
        do {
            try await rest.syncClock(afterRefusal: afterRefusal)
        } catch {
            logger.warning("Binance's clock could not be read; the last offset stays", metadata: ["error": "\(error)"])
        }
    }

    private func keepRules() async {
        do {
            try await refreshRules()
        } catch {
            logger.warning("Binance's exchangeInfo could not be read; the last rules stay", metadata: ["error": "\(error)"])
        }
    }

    /// Reads `exchangeInfo` for the configured symbols: their rules, and Binance's rate limits for the gate.
    func refreshRules() async throws {
        let body = try await read("/api/v3/exchangeInfo", [("symbols", Self.jsonList(settings.symbols))], weight: 20, signed: false)
        let info = try BinanceReports.decode(BinanceExchangeInfo.self, from: body, what: "GET /api/v3/exchangeInfo")
        if let limits = info.rateLimits { await rest.setLimits(limits) }
        let (read, refused, nowPaused) = info.rules()
        for refusal in refused {
            logger.error("a Binance symbol's rules could not be read; orders for it are refused", metadata: [
                "symbol": "\(refusal.symbol)", "reason": "\(refusal.reason)",
            ])
        }
        for (symbol, status) in nowPaused.sorted(by: { $0.key < $1.key }) where paused[symbol] != status {
            logger.warning("Binance has paused a symbol's trading; its new orders are refused until it trades again", metadata: [
                "symbol": "\(symbol)", "status": "\(status)",
            ])
        }
        for symbol in paused.keys.sorted() where nowPaused[symbol] == nil {
            logger.notice("Binance trades a paused symbol again", metadata: ["symbol": "\(symbol)"])
        }
        paused = nowPaused
        watchPaused()
        let before = rules
        rules = Dictionary(read.map { ($0.symbol, $0.withFeeRate(symbolCommissions[$0.symbol] ?? commissionRate)) },
                           uniquingKeysWith: { first, _ in first })
        rulesReadAt = Date()
        if !before.isEmpty, rules != before {
            logger.notice("Binance's rules changed", metadata: [
                "symbols": "\(Set(before.keys).union(rules.keys).filter { before[$0] != rules[$0] }.sorted())",
            ])
            await deliver(.rules(rules.values.sorted { $0.symbol < $1.symbol }))
        }
    }

    /// The account's commission as read: stamped on every symbol's rules, which are delivered again when it changed
    /// (an account moved to another fee tier). Absent from the answer, the last one read stays.
    private func takeCommission(_ rates: BinanceReports.CommissionRates?) {
        guard let rate = rates?.takerPerSide else {
            if commissionRate == nil {
                logger.warning("Binance did not say the account's commission; until a symbol's own is read, the strategies count only their fee_rate")
            }
            return
        }
        guard rate != commissionRate else { return }
        let before = commissionRate
        commissionRate = rate
        logger.notice("Binance account commission per side on market orders", metadata: ["rate": "\(rate)", "before": "\(before.map { "\($0)" } ?? "-")"])
        // The symbols' own rates moved with it (another fee tier): read again, and stamped then.
        if before != nil, !symbolCommissions.isEmpty {
            Task { await readSymbolCommissions() }
        } else {
            stampFees()
        }
    }

    /// Reads each configured symbol's own commission (weight 20 each; at start and with the rules' hourly read). A
    /// symbol not read keeps the account's rate.
    func readSymbolCommissions() async {
        var read: [String: ExactDecimal] = [:]
        for symbol in settings.symbols {
            do {
                let body = try await self.read("/api/v3/account/commission", [("symbol", symbol)], weight: 20)
                let answer = try BinanceReports.decode(BinanceReports.SymbolCommission.self, from: body, what: "GET /api/v3/account/commission")
                if let rate = answer.takerPerSide { read[symbol] = rate }
            } catch {
                logger.warning("a symbol's commission could not be read; the account's rate stands for it", metadata: [
                    "symbol": "\(symbol)", "error": "\(error)",
                ])
                if let kept = symbolCommissions[symbol] { read[symbol] = kept }
            }
        }
        defer { symbolCommissionReads += 1 }
        guard read != symbolCommissions else { return }
        symbolCommissions = read
        stampFees()
    }

    /// Puts each symbol's fee on its rules; once the venue has started (routerd has read its rules), a change is
    /// handed to routerd.
    private func stampFees() {
        let before = rules
        rules = Dictionary(uniqueKeysWithValues: rules.map { ($0.key, $0.value.withFeeRate(symbolCommissions[$0.key] ?? commissionRate)) })
        if upkeep != nil, rules != before { Task { await deliver(.rules(rules.values.sorted { $0.symbol < $1.symbol })) } }
    }

    var anyPaused: Bool { !paused.isEmpty }

    /// While any symbol is paused, `exchangeInfo` is read every `pausedRulesEvery`, so that its orders (its stops)
    /// are accepted soon after Binance resumes it, not at the next hourly read.
    private func watchPaused() {
        guard !paused.isEmpty, pausedWatch == nil, !stopped else { return }
        let every = pausedRulesEvery
        pausedWatch = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: every)
                guard let self, !Task.isCancelled, await self.anyPaused else { break }
                await self.keepRules()
            }
            await self?.pausedWatchEnded()
        }
    }

    private func pausedWatchEnded() {
        pausedWatch = nil
        watchPaused()  // a pause read between the watch's last look and its end
    }

    // MARK: TradingVenue

    public func symbolRules() async throws -> [SymbolRules] {
        if rules.isEmpty { try await refreshRules() }
        return rules.values.sorted { $0.symbol < $1.symbol }
    }

    public func place(_ order: VenueOrderRequest) async throws -> VenueOrderReport {
        try await place(order, sendingOnce: .granted)
    }

    public func place(_ order: VenueOrderRequest, sendingOnce permission: SendPermission) async throws -> VenueOrderReport {
        placing[order.clientOrderId] = .some(nil)
        let result: Result<VenueOrderReport, any Error>
        do { result = .success(try await send(order, sendingOnce: permission)) } catch { result = .failure(error) }
        if case .some(.some(let event)) = placing.removeValue(forKey: order.clientOrderId) {
            Task { await self.userStreamEvent(event) }
        }
        return try result.get()
    }

    /// `POST /api/v3/order`, its answer read into a report.
    private func send(_ order: VenueOrderRequest, sendingOnce permission: SendPermission) async throws -> VenueOrderReport {
        guard let rule = rules[order.symbol] else {
            throw VenueError.rejected("\(order.symbol) is not traded on Binance here (router.binance.symbols, or its rules could not be read)")
        }
        if let status = paused[order.symbol] {
            throw VenueError.rejected("Binance has \(order.symbol)'s trading paused (\(status)); not sent")
        }
        let parameters = try BinanceOrders.newOrderParameters(order)
        let body: [UInt8]
        do {
            body = try await rest.send(.init(method: .POST, path: "/api/v3/order", parameters: parameters, signed: true, weight: 1, isOrder: true,
                                             timeout: .milliseconds(Int64(settings.orderTimeoutMs))), sendingOnce: permission)
        } catch {
            throw await venueError(placing: order, error)
        }
        // From here the order exists at Binance: whatever goes wrong in reading the answer, its outcome is unknown.
        do {
            let answer = try BinanceReports.decode(BinanceReports.Order.self, from: body, what: "POST /api/v3/order")
            clientOrderIds[answer.orderId] = order.clientOrderId
            let fee = try await feeConversion(rule, commissions: (answer.fills ?? []).map { ($0.commission, $0.commissionAsset) })
            let fills = try BinanceReports.fills(of: answer, clientOrderId: order.clientOrderId, side: order.side, fee: fee, now: Date())
            // An answer whose fills fall short of what it says was executed would have the order recorded, and remembered
            // as final, without them: its outcome is settled by looking it up (its trades read whole) instead.
            let listed = try ExactDecimal.sum(fills.map(\.quantity))
            guard listed == answer.executedQty else {
                throw BinanceReports.Malformed(description: "its fills add up to \(listed) of the \(answer.executedQty) it executed")
            }
            let report = try BinanceReports.report(answer, clientOrderId: order.clientOrderId, fills: fills, now: Date())
            remember(report, symbol: order.symbol)
            return report
        } catch {
            throw VenueError.unknownOutcome("Binance accepted order \(order.clientOrderId) but its answer could not be read: \(error)")
        }
    }

    public func cancel(clientOrderId: String, symbol: String) async throws -> VenueOrderReport {
        let body: [UInt8]
        do {
            body = try await rest.send(.init(method: .DELETE, path: "/api/v3/order",
                                             parameters: [("symbol", symbol), ("origClientOrderId", clientOrderId)],
                                             signed: true, weight: 1, isOrder: false, timeout: .seconds(10)))
        } catch BinanceRESTClient.Failure.answered(.noSuchOrder(let message)) {
            // Not working any more (filled or cancelled meanwhile) or never there: the lookup says which.
            guard let report = try await order(clientOrderId: clientOrderId, symbol: symbol) else {
                throw VenueError.rejected("Binance has no order \(clientOrderId): \(message)")
            }
            return report
        } catch BinanceRESTClient.Failure.answered(.rejected(let code, let message)) {
            throw VenueError.rejected("Binance \(code): \(message)")
        } catch BinanceRESTClient.Failure.notSent(let reason) {
            throw VenueError.unavailable(reason)
        } catch {
            throw VenueError.unknownOutcome("the cancel of \(clientOrderId): \(error)")
        }
        let answer = try BinanceReports.decode(BinanceReports.Order.self, from: body, what: "DELETE /api/v3/order")
        return try await report(of: answer, clientOrderId: clientOrderId)
    }

    public func order(clientOrderId: String, symbol: String) async throws -> VenueOrderReport? {
        let body: [UInt8]
        do {
            body = try await read("/api/v3/order", [("symbol", symbol), ("origClientOrderId", clientOrderId)], weight: 4)
        } catch BinanceRESTClient.Failure.answered(.noSuchOrder) {
            return nil
        }
        let answer = try BinanceReports.decode(BinanceReports.Order.self, from: body, what: "GET /api/v3/order")
        return try await report(of: answer, clientOrderId: clientOrderId)
    }

    public func openOrders() async throws -> [VenueOrderReport] {
        var reports: [VenueOrderReport] = []
        for symbol in settings.symbols {
            let body = try await read("/api/v3/openOrders", [("symbol", symbol)], weight: 6)
            let answers = try BinanceReports.decode([BinanceReports.Order].self, from: body, what: "GET /api/v3/openOrders")
            for answer in answers { reports.append(try await report(of: answer, clientOrderId: answer.clientOrderId)) }
        }
        return reports
    }

    /// Every configured symbol's trades since `since`: found by time in windows of 24 hours (Binance's limit),
    /// then paged by trade id from the first one found, so none is skipped however many there are.
    public func fills(since: Date) async throws -> [VenueFill] {
        let now = await rest.binanceNow()
        var fills: [VenueFill] = []
        for symbol in settings.symbols {
            guard let rule = rules[symbol] else { continue }
            var trades: [BinanceReports.Trade] = []
            var windowStart = since
            while windowStart < now, trades.isEmpty {
                let windowEnd = min(windowStart.addingTimeInterval(24 * 3_600 - 0.001), now)
                trades = try await myTrades(symbol, [("startTime", Self.milliseconds(windowStart)), ("endTime", Self.milliseconds(windowEnd))])
                windowStart = windowEnd.addingTimeInterval(0.001)
            }
            // From the first trade found, page by id to the newest (later windows may hold more).
            var page = trades
            while !page.isEmpty, let last = page.last, last.id < Int64.max {
                page = try await myTrades(symbol, [("fromId", String(last.id + 1))])
                trades += page
                if page.count < Self.tradePage { break }
            }
            for trade in trades where clientOrderIds[trade.orderId] == nil { try await learnClientOrderId(of: trade.orderId, symbol: symbol) }
            let fee = try await feeConversion(rule, commissions: trades.map { ($0.commission, $0.commissionAsset) })
            fills += try BinanceReports.fills(of: trades.filter { $0.time >= Int64(since.timeIntervalSince1970 * 1_000) },
                                              clientOrderIds: { self.clientOrderIds[$0] }, fee: fee)
        }
        return fills.sorted { ($0.time, $0.fillId) < ($1.time, $1.fillId) }
    }

    /// From the cache while the user data stream keeps it current; otherwise (and to seed it) `GET /api/v3/account`.
    public func balances() async throws -> [AssetBalance] {
        let balances = try await readBalances()
        hold(balances)
        return balances
    }

    private func readBalances() async throws -> [AssetBalance] {
        if userStreamUp, let current = account.current() { return current }
        let (generation, subscribed) = (account.generation, userStreamUp)
        let body = try await read("/api/v3/account", [("omitZeroBalances", "true")], weight: 20)
        let answer = try BinanceReports.decode(BinanceReports.Account.self, from: body, what: "GET /api/v3/account")
        takeCommission(answer.commissionRates)
        let balances = answer.balances.map { AssetBalance(asset: $0.asset, free: $0.free, locked: $0.locked) }.sorted { $0.asset < $1.asset }
        // Taken only if the stream was subscribed throughout the read (the cache is emptied on every change of that).
        if subscribed, userStreamUp, let updatedAt = answer.updateTime { account.seed(balances, updatedAt: updatedAt, requestedIn: generation) }
        return balances
    }

    /// Spot has no positions of its own: each traded symbol's base asset held (free and locked) is its long
    /// position, marked at Binance's last price. Binance keeps no cost for a holding, so the average price shown is
    /// the mark and no P&L is claimed; routerd's strategy books, from its own fills, carry the cost.
    public func positions() async throws -> [Position] {
        try await positions(holding: try await balances())
    }

    /// The balances and the positions they make, from one read of the account (or the stream's balances).
    public func holdings() async throws -> (balances: [AssetBalance], positions: [Position]) {
        let balances = try await balances()
        return (balances, try await positions(holding: balances))
    }

    private func positions(holding balances: [AssetBalance]) async throws -> [Position] {
        let held = Dictionary(balances.map { ($0.asset, $0) }, uniquingKeysWith: { first, _ in first })
        var positions: [Position] = []
        for symbol in settings.symbols {
            guard let rule = rules[symbol], let balance = held[rule.baseAsset] else { continue }
            let quantity = try balance.total
            guard !quantity.isZero else { continue }
            let mark = try await markPrice(symbol)
            positions.append(Position(venue: .binance, symbol: symbol, quantity: quantity, averagePrice: mark, realizedPnl: .zero,
                                      lastPrice: mark, unrealizedPnl: nil))
        }
        return positions
    }

    /// Hands over the events kept until now, oldest first, before any that comes later: events arriving during the
    /// hand-over are kept too and handed over in turn; only then is the handler set.
    public func setEventHandler(_ handler: @escaping @Sendable (VenueEvent) async -> Void) async {
        while !early.isEmpty {
            let kept = early
            early = []
            for event in kept { await handler(event) }
        }
        self.handler = handler
    }

    // MARK: Helpers

    static let tradePage = 1_000

    static func milliseconds(_ date: Date) -> String { String(Int64((date.timeIntervalSince1970 * 1_000).rounded(.down))) }

    /// A signed (by default) read. A read refused because Binance is refusing requests is `unavailable`.
    func read(_ path: String, _ parameters: [(name: String, value: String)], weight: Int, signed: Bool = true) async throws -> [UInt8] {
        try await rest.send(.init(method: .GET, path: path, parameters: parameters, signed: signed, weight: weight, isOrder: false,
                                  timeout: .seconds(10)))
    }

    private func myTrades(_ symbol: String, _ parameters: [(name: String, value: String)]) async throws -> [BinanceReports.Trade] {
        let body = try await read("/api/v3/myTrades", [("symbol", symbol)] + parameters + [("limit", String(Self.tradePage))],
                                  weight: parameters.contains { $0.name == "orderId" } ? 5 : 20)
        return try BinanceReports.decode([BinanceReports.Trade].self, from: body, what: "GET /api/v3/myTrades")
    }

    private func learnClientOrderId(of orderId: Int64, symbol: String) async throws {
        let body = try await read("/api/v3/order", [("symbol", symbol), ("orderId", String(orderId))], weight: 4)
        let answer = try BinanceReports.decode(BinanceReports.Order.self, from: body, what: "GET /api/v3/order")
        clientOrderIds[orderId] = answer.clientOrderId
    }

    /// An order Binance reported, with every fill it has had (read from `myTrades` when it has any).
    private func report(of answer: BinanceReports.Order, clientOrderId: String) async throws -> VenueOrderReport {
        let ownId = answer.origClientOrderId ?? clientOrderId
        clientOrderIds[answer.orderId] = ownId
        var fills: [VenueFill] = []
        if answer.executedQty.isPositive {
            guard let rule = rules[answer.symbol] else {
                throw BinanceReports.Malformed(description: "Binance reported fills of \(ownId) in \(answer.symbol), which is not configured")
            }
            var trades = try await myTrades(answer.symbol, [("orderId", String(answer.orderId))])
            var page = trades
            while page.count == Self.tradePage, let last = page.last, last.id < Int64.max {
                page = try await myTrades(answer.symbol, [("orderId", String(answer.orderId)), ("fromId", String(last.id + 1))])
                trades += page
            }
            // myTrades is read from Binance's database, the order's status from memory: its trades can lag. A report
            // short of fills would settle the order without them; an error has it looked up again.
            let traded = try ExactDecimal.sum(trades.map(\.qty))
            guard traded == answer.executedQty else {
                throw BinanceReports.Malformed(description: "Binance reports \(answer.executedQty) executed of \(ownId) but its trades add up to \(traded); looking again later")
            }
            let fee = try await feeConversion(rule, commissions: trades.map { ($0.commission, $0.commissionAsset) })
            fills = try BinanceReports.fills(of: trades, clientOrderIds: { $0 == answer.orderId ? ownId : nil }, fee: fee)
        }
        let report = try BinanceReports.report(answer, clientOrderId: ownId, fills: fills, now: Date())
        remember(report, symbol: answer.symbol)
        return report
    }

    /// How this symbol's commissions become quote-asset fees, with the prices of any other asset they are in.
    private func feeConversion(_ rule: SymbolRules, commissions: [(amount: ExactDecimal, asset: String)]) async throws -> FeeConversion {
        var conversion = FeeConversion(baseAsset: rule.baseAsset, quoteAsset: rule.quoteAsset)
        for asset in conversion.foreignAssets(in: commissions) {
            conversion.prices[asset] = try await feePrice(asset, in: rule.quoteAsset)
        }
        return conversion
    }

    /// `asset`'s last price in `quoteAsset` from Binance, else the last one read, here or by the held assets' refresh
    /// (none read at all: the fill waits).
    private func feePrice(_ asset: String, in quoteAsset: String) async throws -> ExactDecimal {
        let pair = asset + quoteAsset
        do {
            let price = try await lastPrice(pair)
            feePrices[pair] = (price, .now)
            return price
        } catch {
            // The newer of its own last read and the held assets' refresh's (which prices BNB as soon as it is held).
            let reads = [feePrices[pair], heldAssetPrices.lastPrice(of: pair)].compactMap { $0 }
            guard let kept = reads.max(by: { $0.at < $1.at }) else {
                throw FeeConversion.Unvalued(asset: asset, quoteAsset: quoteAsset, cause: "\(error)")
            }
            let age = ContinuousClock.now - kept.at
            logger.log(level: age < Self.feePriceOldAge ? .warning : .error,
                       "a commission is valued at the last price read, as Binance cannot be asked now", metadata: [
                "pair": "\(pair)", "price": "\(kept.price)", "age": "\(age)", "error": "\(error)",
            ])
            return kept.price
        }
    }

    /// Makes the fee prices read so far `by` older (tests: what an hour-long outage does).
    func ageFeePrices(by duration: Duration) {
        for pair in feePrices.keys { feePrices[pair]?.at -= duration }
    }

    /// The market stream's last trade of `symbol` if it is younger than `markMaxAge`, else Binance's over REST, kept as
    /// the mark in turn: a symbol whose stream is quiet (or sends only ticks routerd refuses) costs one read per
    /// `markMaxAge`, not one per account read.
    private func markPrice(_ symbol: String) async throws -> ExactDecimal {
        if let mark = marks[symbol], ContinuousClock.now - mark.at < markMaxAge { return mark.price }
        let price = try await lastPrice(symbol)
        marks[symbol] = (price, .now)
        return price
    }

    /// `GET /api/v3/ticker/price` (weight 2): Binance's last traded price of `symbol`; a price that is not positive is
    /// an error.
    private func lastPrice(_ symbol: String) async throws -> ExactDecimal {
        struct Ticker: Decodable { var price: ExactDecimal }
        let body = try await read("/api/v3/ticker/price", [("symbol", symbol)], weight: 2, signed: false)
        let price = try BinanceReports.decode(Ticker.self, from: body, what: "GET /api/v3/ticker/price").price
        // A zero would value a holding, or a BNB commission, at nothing: no price, as when none can be read.
        guard price.isPositive else { throw BinanceReports.Malformed(description: "Binance gives \(symbol)'s last price as \(price)") }
        return price
    }

    /// What a failed `POST /api/v3/order` means for the order.
    private func venueError(placing order: VenueOrderRequest, _ error: any Error) async -> VenueError {
        guard let failure = error as? BinanceRESTClient.Failure else { return .unknownOutcome("\(error)") }
        switch failure {
        case .notSent(let reason):
            return .unavailable(reason)
        case .noAnswer(let reason), .malformed(let reason):
            return .unknownOutcome(reason)
        case .answered(let outcome):
            switch outcome {
            case .rejected(let code, let message):
                guard BinanceOutcome.newOrderWasNotProcessed(code: code) else {
                    return .unknownOutcome("Binance answered \(code): \(message), which does not say the order was not processed")
                }
                // errors.md: "The symbol is not trading." A pause begun since the rules were read: reading them now
                // refuses the next orders before they go, and watches for the symbol trading again.
                if message == "Market is closed." { await keepRules() }
                return .rejected("Binance \(code): \(message)")
            case .filterFailure(let code, let message):
                // The symbol's rules may have changed since they were read: read them again for the next order.
                await keepRules()
                return .rejected("Binance \(code): \(message)")
            case .rateLimited(_, let message), .banned(_, let message):
                // Binance refused the request itself: it was not processed.
                return .rejected("Binance refused the request (\(message)); \(await rest.blockedReason() ?? "")")
            case .tooManyOrders(let message):
                // Not processed; new orders are refused unsent until the count's window ends, cancels still go.
                return .rejected("\(message) (new orders wait for the limit's window; cancels and reads go on)")
            case .noSuchOrder(let message):
                return .rejected("Binance: \(message)")
            case .duplicate(let message):
                return .duplicate(message)
            case .unknown(let reason):
                return .unknownOutcome(reason)
            case .clockSkew(let message):
                // Binance refuses a request whose timestamp is outside recvWindow without acting on it, but an
                // order is never taken for refused on that: it is looked up (the clock was read again meanwhile).
                return .unknownOutcome("Binance refused the timestamp (-1021: \(message))")
            case .success:
                return .unknownOutcome("Binance answered success without a body")
            }
        }
    }
}

struct BinanceVenueError: Error, CustomStringConvertible {
    var description: String
}
