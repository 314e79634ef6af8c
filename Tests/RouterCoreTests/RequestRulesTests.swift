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

    @Test("quantities no venue trades", arguments: [5e-324, 1e-12, 0, -1, 2e9, Double.infinity, Double.nan])
    func quantities(quantity: Double) async throws {
        _ = try await refused { $0.quantity = quantity }
    }

    @Test("limit prices no venue quotes", arguments: [5e-324, 0, -100, 1e12, Double.nan])
    func limitPrices(price: Double) async throws {
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

    @Test("a pause reason is bounded and the account never echoes 100 KB")
    func pauseReason() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        _ = await expectIPCError(.badRequest) { _ = try await service.setTrading(enabled: false, reason: Self.huge) }
        _ = await expectIPCError(.badRequest) { _ = try await service.setTrading(enabled: false, reason: "line one\nline two") }
        #expect(await service.account().tradingEnabled)
        let paused = try await service.setTrading(enabled: false, reason: "maintenance until 14:00")
        #expect(paused.reason == "maintenance until 14:00")
    }

    @Test("cancels and order queries check their ids and filters too")
    func cancelAndQuery() async throws {
        let fixture = try RouterFixture()
        let service = try await fixture.service()
        _ = await expectIPCError(.badRequest) { _ = try await service.cancel(clientOrderId: "../x") }
        _ = await expectIPCError(.badRequest) { _ = try await service.orders(OrdersQuery(symbol: Self.huge)) }
        _ = await expectIPCError(.badRequest) { _ = try await service.orders(OrdersQuery(strategyId: Self.huge)) }
        _ = await expectIPCError(.notFound) { _ = try await service.cancel(clientOrderId: "bb-nothing") }
    }
}
