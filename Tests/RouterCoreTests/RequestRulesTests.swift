import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import RouterCore

/// What a probe of routerd's socket got stored before: each is now refused with bad_request, nothing is
/// stored or executed, and the error quotes at most an excerpt of what was sent.
@Suite("routerd checks every input before it stores anything")
struct RequestRulesTests {
    private static let huge = String(repeating: "x", count: 100_000)

    private func refused(_ make: (inout PlaceOrderRequest) -> Void) async throws -> IPCError? {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        var order = request("bb-probe")
        make(&order)
        let error = await expectIPCError(.badRequest) { _ = try await service.place(order) }
        #expect(try fixture.count("orders") == 0, "nothing is stored")
        #expect(try fixture.count("fills") == 0)
        if let error { #expect(error.message.utf8.count < 300, "the error quotes an excerpt, not the input: \(error.message.prefix(80))") }
        return error
    }

    @Test("quantities no venue trades", arguments: ["1e-18", "0.000000000001", "0", "-1", "2e9", "0.000000009"])
    func quantities(text: String) async throws {
        let quantity = try #require(ExactDecimal(text))
        _ = try await refused { $0.quantity = quantity }
    }

    @Test("limit prices no venue quotes", arguments: ["1e-18", "0", "-100", "1e12"])
    func limitPrices(text: String) async throws {
        let price = try #require(ExactDecimal(text))
        _ = try await refused { $0.type = .limit; $0.limitPrice = price }
    }

    @Test("client order ids outside ^[a-zA-Z0-9_-]{1,36}$", arguments: ["../x", "bb:1", "bb.1", "a/b", "", String(repeating: "a", count: 37), "bb 1", "bé"])
    func clientOrderIds(id: String) async throws {
        let error = try await refused { $0.clientOrderId = id }
        #expect(error?.message.contains("clientOrderId") == true)
    }

    @Test("symbols, strategy ids and request ids of any length or alphabet are refused")
    func names() async throws {
        #expect(try await refused { $0.symbol = String(repeating: "B", count: 10_000) }?.message.contains("symbol") == true)
        #expect(try await refused { $0.symbol = "BTC\nUSDT" } != nil)
        #expect(try await refused { $0.strategyId = Self.huge }?.message.contains("strategyId") == true)
        #expect(try await refused { $0.requestId = Self.huge }?.message.contains("requestId") == true)
        #expect(try await refused { $0.requestId = "req\u{0}1" } != nil)
    }

    @Test("what the rules allow still trades: every id arsenald sends, symbols with . and /")
    func allowed() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service(overrides: ["BRK.B": .stocks])
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let order = try await service.place(request("bb-a1b2c3d4-17", strategy: "micro_trend"))
        #expect(order.status == .filled)
        #expect((try? RequestRules.checkedSymbol("btc/usd")) == "BTC/USD")
        #expect((try? RequestRules.checkedSymbol("brk.b")) == "BRK.B")
        #expect((try? RequestRules.checkClientOrderId(String(repeating: "Z", count: 36))) != nil)
    }

    @Test("a pause always pauses: its reason is cut to 200 characters and cleaned, never refused")
    func pauseReason() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        let long = try await service.setTrading(enabled: false, reason: Self.huge)
        #expect(!long.enabled)
        #expect(long.reason?.count == 200)
        let multiline = try await service.setTrading(enabled: false, reason: "BTC feed broken\nsee incident 42")
        #expect(multiline.reason == "BTC feed broken see incident 42")
        #expect(try await service.account().tradingEnabled == false)
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let refusal = await expectIPCError(.tradingPaused) { _ = try await service.place(request("bb-paused")) }
        #expect(refusal?.message.contains("BTC feed broken see incident 42") == true)
    }

    @Test("a reason stored before reasons were bounded is cut when it is loaded, so nothing echoes it in full")
    func legacyReason() async throws {
        let fixture = try RouterFixture()
        var legacy = TradingSwitch(stateDirectory: fixture.dir.file("state"), logger: quietLogger)
        try legacy.set(enabled: false, reason: Self.huge)
        let service = try await fixture.service()
        await service.onTick(quote("BTCUSDT", bid: 100, ask: 101))
        let refusal = await expectIPCError(.tradingPaused) { _ = try await service.place(request("bb-paused")) }
        #expect((refusal?.message.utf8.count ?? .max) < 300)
        #expect((try await service.account().pausedReason?.count ?? .max) <= 200)
    }

    @Test("an order stored under the earlier id rule (. : /) can still be cancelled, looked up and retried")
    func legacyIds() async throws {
        let fixture = try RouterFixture()
        try await fixture.leftOver(newOrder("ops:1", .buy, 0.5, type: .limit, limit: 50, status: .acknowledged))
        let service = try await fixture.service()
        #expect(try await service.orders(OrdersQuery(clientOrderId: "ops:1")).first?.status == .acknowledged)
        #expect(try await service.cancel(clientOrderId: "ops:1").status == .cancelled)
        await service.onTick(quote("BTCUSDT", bid: 49, ask: 50))
        #expect(try await fixture.store.order(clientOrderId: "ops:1")?.status == .cancelled)
        // A retry of a stored order returns it; a new order under the old alphabet is refused.
        let retried = try await service.place(request("ops:1", "BTCUSDT", .buy, 0.5, type: .limit, limit: 50))
        #expect(retried.status == .cancelled)
        _ = await expectIPCError(.badRequest) { _ = try await service.place(request("ops:2")) }
        #expect(try fixture.count("orders") == 1)
    }

    @Test("symbols must be ASCII before they are upper-cased", arguments: ["btcuſdt", "ıbm", "straße", "ﬀ"])
    func nonASCIISymbols(symbol: String) {
        #expect((try? RequestRules.checkedSymbol(symbol)) == nil)
    }

    @Test("cancels and order queries check their ids and filters too")
    func cancelAndQuery() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        _ = await expectIPCError(.badRequest) { _ = try await service.cancel(clientOrderId: "bb 1\n") }
        _ = await expectIPCError(.badRequest) { _ = try await service.orders(OrdersQuery(symbol: Self.huge)) }
        _ = await expectIPCError(.badRequest) { _ = try await service.orders(OrdersQuery(strategyId: Self.huge)) }
        _ = await expectIPCError(.notFound) { _ = try await service.cancel(clientOrderId: "bb-nothing") }
    }
}
