import Foundation
import Synchronization
import Testing
import BagbotDomain
import BagbotTestSupport
@testable import RouterCore

/// `router.account`: every venue added up in one currency.
@Suite("The combined account")
struct AccountSummaryTests {
    /// Seconds from the tests' epoch to now: ticks (and so fills) stamped today.
    var now: Double { Date().timeIntervalSince(epoch) }

    @Test("a slow read of a venue's balances does not hold orders up; an order placed meanwhile has them read again, after it")
    func holdingsReadOutsideTheSection() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "USDT", free: 1_000, locked: 0)])
        let service = try await fixture.service(venues: [binance])
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: now))
        _ = try await service.account()
        #expect(await binance.balanceReads == 1, "read once when nothing moved meanwhile")

        await binance.setHoldBalances(true)
        let account = Task { try await service.account() }
        try await waitFor("the balances read to start", timeout: .seconds(5), every: .milliseconds(1)) { await binance.balanceReads == 2 }
        // The read hangs on the venue: an order goes through all the same.
        let answered = Atomic(false)
        let placed = Task {
            defer { answered.store(true, ordering: .relaxed) }
            return try await service.place(request("b-during-read", "BTCUSDT", .buy, 1))
        }
        try await waitFor("the order to go through while the balances read hangs", timeout: .seconds(5), every: .milliseconds(1)) {
            answered.load(ordering: .relaxed)
        }
        #expect(try await placed.value.status == .filled)
        await binance.setHoldBalances(false)
        _ = try await account.value
        #expect(await binance.balanceReads == 3, "the read made before the order was not taken: read again inside, after it")
    }

    @Test("router.account values an asset no routed symbol trades at the price its venue read for it")
    func venuePricesHeldAssets() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "USDT", free: 1_000, locked: 0), AssetBalance(asset: "DOGE", free: 100, locked: 0)])
        let service = try await fixture.service(venues: [binance], paperTrading: false)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: now))
        #expect(try await service.account().unvalued == ["DOGE"])
        await binance.setHeldAssetPairs([CurrencyConverter.Pair(symbol: "DOGEUSDT", baseAsset: "DOGE", quoteAsset: "USDT", price: 0.1)])
        let account = try await service.account()
        #expect(account.unvalued.isEmpty)
        #expect(account.venues.first { $0.venue == .binance }?.equity == 1_010)
    }

    @Test("a record that fails after it landed still makes a read of the holdings made before it be read again")
    func failedRecordStillCounts() async throws {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "USDT", free: 1_000, locked: 0)])
        let service = try await fixture.service(storage: storage, venues: [binance], paperTrading: false)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: now))
        await binance.set(.rest)
        #expect(try await service.place(request("b-rest", "BTCUSDT", .buy, 1, type: .limit, limit: 99)).status == .acknowledged)
        let reads = await binance.balanceReads
        await binance.setHoldBalances(true)
        let account = Task { try await service.account() }
        try await waitFor("the balances read to start", timeout: .seconds(5), every: .milliseconds(1)) { await binance.balanceReads == reads + 1 }
        // The resting order fills at the venue; routerd's record of it lands, but the write reports an error.
        storage.failWhen.withLockedValue { $0 = .filled }
        await binance.fillWorking("b-rest")
        await binance.setHoldBalances(false)
        _ = try await account.value
        #expect(await binance.balanceReads == reads + 2, "the read from before the fill was not taken")
    }

    @Test("equity, cash, exposure and P&L of the day across two venues, in dollars, with what could not be valued")
    func combined() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 0.25, locked: 0.25), AssetBalance(asset: "USDT", free: 1_000, locked: 0),
                               AssetBalance(asset: "DOGE", free: 100, locked: 0)])
        let service = try await fixture.service(venues: [binance])
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101, at: now))
        await service.onTick(quote("EURUSD", bid: 1.1, ask: 1.1002, at: now))
        _ = try await service.place(request("b1", "BTCUSDT", .buy, 2))
        _ = try await service.place(request("e1", "EURUSD", .sell, 1_000))
        let before = try await service.account()
        #expect(before.realizedPnlToday == 0)
        await service.onTick(quote("BTCUSDT", bid: 110, ask: 111, at: now + 1))
        _ = try await service.place(request("b2", "BTCUSDT", .sell, 1))

        let account = try await service.account()
        let rebuilt = try await fixture.store.dayLedger(since: account.dayStart, through: .max).dayFigures
        #expect(account.realizedPnlToday == rebuilt.first { $0.symbol == "BTCUSDT" }?.realizedPnl,
                "the ledger kept from the first call and given the new fill agrees with one built from the whole log")
        #expect(account.currency == "USD")
        let positions = try await service.positions()
        let btc = try #require(positions.first { $0.symbol == "BTCUSDT" })
        let eur = try #require(positions.first { $0.symbol == "EURUSD" })
        // USDT is pegged, so the BTCUSDT figures count one for one; EURUSD's are in dollars already.
        #expect(account.realizedPnlToday == btc.realizedPnl, "routerd's fills and the venue's book agree to the last digit")
        #expect(account.unrealizedPnl == (try #require(btc.unrealizedPnl) + #require(eur.unrealizedPnl)))
        let fills = try await fixture.store.fills(after: 0, limit: 100).fills
        #expect(account.feesToday == (try ExactDecimal.sum(fills.map(\.fee))))

        let paper = try #require(account.venues.first { $0.venue == .paper })
        let scripted = try #require(account.venues.first { $0.venue == .binance })
        let book = try #require(try await fixture.paperBook())
        let usd = book.balances["USD"] ?? 0, usdt = book.balances["USDT"] ?? 0
        #expect(paper.cash == (try usd + usdt), "USD and USDT are cash; BTC and EUR are positions")
        let cash: ExactDecimal = try usd + usdt
        let btcValue: ExactDecimal = 110.5, eurValue: ExactDecimal = 1_100.1
        #expect(paper.equity == (try cash + btcValue - eurValue))
        #expect(scripted.equity == 1_055.25, "its half BTC at routerd's last price, 110.5, and 1,000 USDT; its DOGE has no price")
        #expect(scripted.cash == 1_000)
        #expect(account.unvalued == ["DOGE"])
        #expect(account.equity == (try paper.equity + scripted.equity))
        #expect(account.cash == (try paper.cash + scripted.cash))

        let btcExposure = try #require(account.symbols.first { $0.venue == .paper && $0.symbol == "BTCUSDT" })
        #expect(btcExposure.quantity == 1)
        #expect(btcExposure.exposure == 110.5)
        #expect(btcExposure.realizedPnlToday == btc.realizedPnl)
        #expect(account.symbols.first { $0.symbol == "EURUSD" }?.exposure == 1_100.1, "a short counts by its size")
        #expect(paper.exposure == 1_210.6)
        #expect(account.exposure == 1_210.6, "balances a venue reports are not positions")
        #expect(account.rates.first { $0.asset == "EUR" }?.via == "EURUSD")
        #expect(account.rates.first { $0.asset == "BTC" }?.rate == 110.5)
    }

    @Test("a price received longer ago than the limit values nothing: the holding is unvalued until a fresh tick comes")
    func stalePriceValuesNothing() async throws {
        let fixture = try RouterFixture()
        let clock = Mutex(ContinuousClock.now)
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 1, locked: 0), AssetBalance(asset: "USDT", free: 1_000, locked: 0)])
        let service = try await fixture.service(venues: [binance], priceAgeLimit: .seconds(30), clock: { clock.withLock { $0 } })
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 100, at: now))
        clock.withLock { $0 += .seconds(30) }
        let fresh = try await service.account()
        #expect(fresh.unvalued.isEmpty)
        #expect(fresh.venues.first { $0.venue == .binance }?.equity == 1_100)
        // The stream went quiet: the last price is 31 s old, and BTC no longer counts at it.
        clock.withLock { $0 += .seconds(1) }
        let stale = try await service.account()
        #expect(stale.unvalued == ["BTC"])
        #expect(stale.venues.first { $0.venue == .binance }?.equity == 1_000, "the BTC is left out, not valued at a frozen price")
        await service.onTick(quote("BTCUSDT", bid: 90, ask: 90, at: now + 31))
        let again = try await service.account()
        #expect(again.unvalued.isEmpty)
        #expect(again.venues.first { $0.venue == .binance }?.equity == 1_090)
    }

    @Test("live: the paper venue's play money, positions and fills are not the account; on paper they are")
    func liveLeavesPaperOut() async throws {
        let fixture = try RouterFixture()
        // A paper run earlier today: a paper position and a paper fill.
        let onPaper = try await fixture.service()
        await onPaper.onTick(quote("BTCUSDT", bid: 100, ask: 100, at: now))
        _ = try await onPaper.place(request("paper-1", "BTCUSDT", .buy, 1))
        let paperAccount = try await onPaper.account()
        #expect(paperAccount.venues.map(\.venue) == [.paper])
        #expect(paperAccount.equity > 90_000, "the paper account is what paper trades against")
        #expect(!paperAccount.feesToday.isZero)

        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "USDT", free: 500, locked: 0)])
        let live = try await fixture.service(venues: [binance], paperTrading: false)
        await live.onTick(quote("BTCUSDT", bid: 100, ask: 100, at: now))
        let account = try await live.account()
        #expect(account.venues.map(\.venue) == [.binance])
        #expect(account.equity == 500, "only what Binance holds; the paper venue's 100,000 play dollars would loosen every limit")
        #expect(account.feesToday == 0 && account.realizedPnlToday == 0, "the paper run's fill is not the live day's")
        #expect(account.exposure == 0 && !account.symbols.contains { $0.venue == .paper })
    }

    @Test("each venue's connection as it last reported it, and since when; the paper venue connected from the start")
    func venueConnections() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(venues: [binance])
        var account = try await service.account()
        #expect(account.venues.first { $0.venue == .paper }?.connection == "connected")
        #expect(account.venues.first { $0.venue == .binance }?.connection == nil, "no report yet")
        await binance.disconnect()
        account = try await service.account()
        let lost = try #require(account.venues.first { $0.venue == .binance })
        #expect(lost.connection == "disconnected" && lost.connectionSince != nil)
        #expect(lost.blocked == nil, "nothing stops its requests")
        #expect(lost.ordersHeld?.contains("order stream") == true, "new orders wait for the stream: \(String(describing: lost.ordersHeld))")
        await binance.setBlocked("banned by Binance (HTTP 418) until 2026-12-07T05:00:00Z")
        #expect(try await service.account().venues.first { $0.venue == .binance }?.blocked == "banned by Binance (HTTP 418) until 2026-12-07T05:00:00Z")
        await binance.setBlocked(nil)
        await binance.reconnect()
        account = try await service.account()
        let back = try #require(account.venues.first { $0.venue == .binance })
        #expect(back.connection == "connected" && (back.connectionSince ?? .distantPast) >= (lost.connectionSince ?? .distantFuture))
    }

    @Test("a tick's age counts from its arrival, not from when routerd got round to it after a slow order")
    func tickAgeCountsFromArrival() async throws {
        let fixture = try RouterFixture()
        let clock = Mutex(ContinuousClock.now)
        let clockReads = Mutex(0)
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 1, locked: 0), AssetBalance(asset: "USDT", free: 1_000, locked: 0)])
        let service = try await fixture.service(venues: [binance], paperTrading: false, priceAgeLimit: .seconds(30),
                                                clock: { clockReads.withLock { $0 += 1 }; return clock.withLock { $0 } })
        // An order holds the exclusive section (a slow venue) while the tick arrives; 31 s pass before it is applied.
        let held = Mutex(false), release = Mutex(false)
        let holding = Task {
            await service.exclusively {
                held.withLock { $0 = true }
                while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        try await waitUntil("the order to hold the exclusive section") { held.withLock { $0 } }
        let readsBefore = clockReads.withLock { $0 }
        let tick = Task { await service.handle(.tick(quote("BTCUSDT", bid: 100, ask: 100, at: now)), from: .binance) }
        try await waitUntil("the tick to arrive (its time read)") { clockReads.withLock { $0 } > readsBefore }
        clock.withLock { $0 += .seconds(31) }
        release.withLock { $0 = true }
        await holding.value
        await tick.value
        let account = try await service.account()
        #expect(account.unvalued == ["BTC"], "the price arrived 31 s ago: it values nothing")
        #expect(account.venues.first { $0.venue == .binance }?.equity == 1_000)
    }

    @Test("live: a venue holding less of a coin than the strategies' books is reported in the account, until it holds it again")
    func bookedHoldingsShortfall() async throws {
        let fixture = try RouterFixture()
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 0.2, locked: 0), AssetBalance(asset: "USDT", free: 1_000, locked: 0)])
        let service = try await fixture.service(venues: [binance], paperTrading: false)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 100, at: now))
        #expect(try await service.account().shortfalls == nil)
        _ = try await service.place(request("bb-live", "BTCUSDT", .buy, 0.5))
        // The venue's balance did not move (as if the fill's coins were withdrawn, or the fill never reached it).
        let short = try #require(try await service.account().shortfalls)
        #expect(short == [AccountSummary.Shortfall(venue: .binance, asset: "BTC", booked: 0.5, held: 0.2)])
        await binance.setHeld([AssetBalance(asset: "BTC", free: 0.5, locked: 0), AssetBalance(asset: "USDT", free: 950, locked: 0)])
        #expect(try await service.account().shortfalls == nil)
    }

    @Test("the limit: 30 s by default, in live mode only; 0 turns it off")
    func priceAgeLimitSetting() throws {
        var settings = RouterSettings()
        #expect(settings.priceAgeLimit == nil, "paper")
        settings.mode = "live"
        #expect(settings.priceAgeLimit == .seconds(30))
        settings.account.maxPriceAgeSeconds = 0
        #expect(settings.priceAgeLimit == nil)
        settings.account.maxPriceAgeSeconds = 2.5
        #expect(settings.priceAgeLimit == .milliseconds(2_500))
    }

    @Test("the day's realised P&L counts closes since the day's start, against positions opened on any day")
    func dayFigures() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 100))
        _ = try await service.place(request("open", "BTCUSDT", .buy, 2))
        await service.onTick(quote("BTCUSDT", bid: 120, ask: 120, at: 3_600))
        _ = try await service.place(request("close-1", "BTCUSDT", .sell, 1))
        await service.onTick(quote("BTCUSDT", bid: 130, ask: 130, at: 90_000))
        _ = try await service.place(request("close-2", "BTCUSDT", .sell, 1))
        let fills = try await fixture.store.fills(after: 0, limit: 10).fills
        try #require(fills.count == 3)

        let all = try await fixture.store.dayLedger(since: epoch, through: .max).dayFigures
        let secondDay = try await fixture.store.dayLedger(since: epoch.addingTimeInterval(86_400), through: .max).dayFigures
        try #require(all.count == 1 && secondDay.count == 1)
        // The second day: one close, at 129.935 against an entry of 100.05, less the open fee's share and its own fee.
        var book = PositionBook()
        var closes: [ExactDecimal] = []
        for fill in fills { if let closed = try book.apply(fill) { closes.append(closed.pnl) } }
        #expect(secondDay[0].realizedPnl == closes[1])
        #expect(secondDay[0].fees == fills[2].fee)
        #expect(all[0].realizedPnl == (try closes[0] + closes[1]))
        #expect(try await fixture.store.dayLedger(since: epoch.addingTimeInterval(86_400), through: 2).dayFigures.isEmpty,
                "only fills up to the sequence asked for")
    }

    /// Two BTC bought at 100 at the tests' epoch, one sold at 120 a minute later.
    private func openAndCloseOne(_ service: RouterService) async throws {
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 100))
        _ = try await service.place(request("open", "BTCUSDT", .buy, 2))
        await service.onTick(quote("BTCUSDT", bid: 120, ask: 120, at: 60))
        _ = try await service.place(request("close-1", "BTCUSDT", .sell, 1))
    }

    /// The tests' epoch is 2023-11-14 22:13:20 UTC: its day starts 80,000 s before it, the next 6,400 s after it.
    static let epochDay = epoch.addingTimeInterval(-80_000)

    @Test("a replay at max speed: the day's realised P&L and fees are those of the market's day, its latest tick's, across its midnight")
    func replayDay() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(dayClock: .latestTick)
        try await openAndCloseOne(service)
        let first = try await service.account()
        let fills = try await fixture.store.fills(after: 0, limit: 10).fills
        try #require(fills.count == 2)
        var book = PositionBook()
        let close = try #require(try fills.compactMap { try book.apply($0) }.first)
        #expect(first.dayStart == Self.epochDay, "the day of the replay's ticks, not the wall clock's")
        #expect(first.realizedPnlToday == close.pnl)
        #expect(first.realizedPnlToday.isPositive)
        #expect(first.feesToday == (try fills[0].fee + fills[1].fee))

        // Past the market's midnight: a new day, nothing realised in it yet; then a close in it.
        await service.onTick(quote("BTCUSDT", bid: 130, ask: 130, at: 7_200))
        let next = try await service.account()
        #expect(next.dayStart == Self.epochDay.addingTimeInterval(86_400))
        #expect(next.realizedPnlToday == 0)
        #expect(next.feesToday == 0)
        _ = try await service.place(request("close-2", "BTCUSDT", .sell, 1))
        let after = try await service.account()
        #expect(after.realizedPnlToday.isPositive)
        #expect(after.dayStart == next.dayStart)
    }

    @Test("on the wall clock (live, or a paced replay, whose ticks are shifted to now), fills of another day are not today's")
    func wallDay() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        try await openAndCloseOne(service)
        let account = try await service.account()
        #expect(account.dayStart == DailyResetTime("00:00")!.dayStart(containing: Date()))
        #expect(account.realizedPnlToday == 0, "the fills are of 2023")
    }

    @Test("routerd's day follows the market's time in a replay at max speed only")
    func dayClockChoice() {
        #expect(RouterDaemon.dayClock(live: false, speed: .max) == .latestTick)
        #expect(RouterDaemon.dayClock(live: false, speed: .multiple(10)) == .wall)
        #expect(RouterDaemon.dayClock(live: true, speed: .max) == .wall, "live, the replay does not run")
    }
}

@Suite("Valuation marks")
struct ValuationMarkTests {
    static let rules: [Venue: [String: SymbolRules]] = [
        .paper: ["BTCUSDT": RouterFixture.looseRules("BTCUSDT")], .binance: ["BTCUSDT": RouterFixture.looseRules("BTCUSDT")],
    ]

    /// Binance holds one BTC and no price came (or the last one is too old); the paper venue's BTCUSDT position still
    /// carries the last replayed price, 9,326.
    static func value(routedTo venue: Venue) throws -> AccountSummary {
        let valuation = AccountValuation(currency: "USD", pegs: ["USDT": "USD"], rules: rules)
        let holdings = [
            AccountValuation.Holdings(venue: .binance, balances: [AssetBalance(asset: "BTC", free: 1, locked: 0)], positions: []),
            AccountValuation.Holdings(venue: .paper, balances: [], positions: [
                Position(venue: .paper, symbol: "BTCUSDT", quantity: 0, averagePrice: 9_000, realizedPnl: 12, lastPrice: 9_326),
            ]),
        ]
        return try valuation.summarize(holdings, prices: [:], markVenue: { _ in venue }, day: [], dayStart: Date(),
                                       trading: TradingSwitchState(enabled: true, reason: nil, changedAt: Date()))
    }

    @Test("an asset no routed symbol trades (BNB) is valued at the price its venue read for it; such a price never replaces a routed symbol's")
    func heldAssetPrices() throws {
        let valuation = AccountValuation(currency: "USD", pegs: ["USDT": "USD"], rules: Self.rules)
        func value(_ prices: [CurrencyConverter.Pair]) throws -> AccountSummary {
            let holdings = [AccountValuation.Holdings(venue: .binance, balances: [
                AssetBalance(asset: "BNB", free: 2, locked: 0.5), AssetBalance(asset: "BTC", free: 1, locked: 0),
            ], positions: [], prices: prices)]
            return try valuation.summarize(holdings, prices: ["BTCUSDT": 60_000], markVenue: { _ in .binance }, day: [], dayStart: Date(),
                                           trading: TradingSwitchState(enabled: true, reason: nil, changedAt: Date()))
        }
        #expect(try value([]).unvalued == ["BNB"], "without a price BNB is unvalued, and so the account")
        let priced = try value([
            CurrencyConverter.Pair(symbol: "BNBUSDT", baseAsset: "BNB", quoteAsset: "USDT", price: 600),
            CurrencyConverter.Pair(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", price: 1),
        ])
        #expect(priced.unvalued.isEmpty)
        #expect(priced.equity == 61_500, "2.5 BNB at 600, and BTC at routerd's own 60,000, not the venue's 1")
        #expect(priced.rates.first { $0.asset == "BNB" }?.via == "BNBUSDT → peg")
    }

    @Test("a venue's price of a held asset never changes the rate of a routed or pegged asset, nor values one whose own price is missing")
    func heldAssetPricesStayLeaves() throws {
        let rules: [Venue: [String: SymbolRules]] = [.binance: [
            "BTCUSDT": RouterFixture.looseRules("BTCUSDT"),
            "ETHBTC": SymbolRules(symbol: "ETHBTC", baseAsset: "ETH", quoteAsset: "BTC", tickSize: 0.00001, stepSize: 0.0001, minQuantity: 0.0001,
                                  maxQuantity: 9_000),
        ]]
        let valuation = AccountValuation(currency: "USD", pegs: ["USDT": "USD", "USDC": "USD"], rules: rules)
        // USDC is pegged, yet held and in no routed symbol: the venue priced it through BTCUSDC, 15 % above BTCUSDT.
        let holdings = [AccountValuation.Holdings(venue: .binance, balances: [
            AssetBalance(asset: "USDC", free: 1_000, locked: 0), AssetBalance(asset: "BTC", free: 1, locked: 0), AssetBalance(asset: "ETH", free: 1, locked: 0),
        ], positions: [], prices: [CurrencyConverter.Pair(symbol: "BTCUSDC", baseAsset: "BTC", quoteAsset: "USDC", price: 69_000)])]
        func value(_ prices: [String: ExactDecimal]) throws -> AccountSummary {
            try valuation.summarize(holdings, prices: prices, markVenue: { _ in nil }, day: [], dayStart: Date(),
                                    trading: TradingSwitchState(enabled: true, reason: nil, changedAt: Date()))
        }
        let live = try value(["BTCUSDT": 60_000, "ETHBTC": 0.05])
        #expect(live.rates.first { $0.asset == "BTC" }?.via == "BTCUSDT → peg")
        #expect(live.equity == 64_000, "1,000 USDC, BTC at 60,000 and ETH at 3,000: \(live.rates)")
        let stale = try value(["ETHBTC": 0.05])
        #expect(stale.unvalued == ["BTC", "ETH"], "BTCUSDT's price too old: BTC is unvalued, not valued through the venue's BTCUSDC")
    }

    @Test("each routed symbol's last price with its quote asset's rate, for mindsetd to value the strategies' positions")
    func symbolMarks() throws {
        let rules: [Venue: [String: SymbolRules]] = [.binance: [
            "BTCUSDT": RouterFixture.looseRules("BTCUSDT"),
            "ETHBTC": SymbolRules(symbol: "ETHBTC", baseAsset: "ETH", quoteAsset: "BTC", tickSize: 0.00001, stepSize: 0.0001, minQuantity: 0.0001,
                                  maxQuantity: 9_000),
        ]]
        let valuation = AccountValuation(currency: "USD", pegs: ["USDT": "USD"], rules: rules)
        func marks(_ prices: [String: ExactDecimal]) throws -> [AccountSummary.SymbolMark]? {
            try valuation.summarize([], prices: prices, markVenue: { _ in .binance }, day: [], dayStart: Date(),
                                    trading: TradingSwitchState(enabled: true, reason: nil, changedAt: Date())).marks
        }
        #expect(try marks(["BTCUSDT": 60_000, "ETHBTC": 0.05]) == [
            AccountSummary.SymbolMark(symbol: "BTCUSDT", price: 60_000, baseAsset: "BTC", quoteAsset: "USDT", quoteRate: 1),
            AccountSummary.SymbolMark(symbol: "ETHBTC", price: 0.05, baseAsset: "ETH", quoteAsset: "BTC", quoteRate: 60_000),
        ])
        #expect(try marks(["ETHBTC": 0.05]) == [AccountSummary.SymbolMark(symbol: "ETHBTC", price: 0.05, baseAsset: "ETH", quoteAsset: "BTC", quoteRate: nil)],
                "no BTCUSDT price: no mark for it, and BTC without a rate")
        // Without a tick, the mark of the venue the symbol is routed to, never another's.
        #expect(try Self.value(routedTo: .paper).marks?.map(\.price) == [9_326])
        #expect(try Self.value(routedTo: .binance).marks == [])
    }

    @Test("a symbol without a current price is valued only by the mark of the venue it is routed to, never another's")
    func onlyTheRoutedVenuesMark() throws {
        let live = try Self.value(routedTo: .binance)
        #expect(live.unvalued == ["BTC"], "the paper venue's replayed price must not value live BTC")
        #expect(live.venues.first { $0.venue == .binance }?.equity == 0)
        let paper = try Self.value(routedTo: .paper)
        #expect(paper.unvalued.isEmpty)
        #expect(paper.venues.first { $0.venue == .binance }?.equity == 9_326)
    }
}
