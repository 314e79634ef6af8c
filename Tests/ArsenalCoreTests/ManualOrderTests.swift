import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// `arsenal.placeManualOrder`: the trader's own orders take the strategies' path.
@Suite("manual orders")
struct ManualOrderTests {
    private let marginRules = [SymbolRules(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.00001,
                                           minQuantity: 0.00001, maxQuantity: 100, shortSelling: true)]

    @Test("an entry is judged by mindsetd, then placed at routerd under strategy manual with a request id, and published like a signal")
    func entryTakesTheSignalPath() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        h.mindset.approveFraction.set(0.5)
        await h.tickAt(1)
        let result = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 0.4))
        #expect(result.outcome == .placed)
        let proposal = try #require(h.mindset.evaluated.get().first)
        #expect(proposal.strategyId == "manual" && proposal.isEntry && proposal.quantity == 0.4 && proposal.price == result.signal.price)
        let placed = try #require(h.router.placed.get().first)
        #expect(placed.strategyId == "manual" && placed.quantity == 0.2 && placed.reduceOnly == nil)
        #expect(placed.requestId == result.signal.requestId && placed.clientOrderId == "bb-\(result.signal.requestId)")
        #expect(result.order?.clientOrderId == placed.clientOrderId && result.decision?.approvedQuantity == 0.2)
        #expect(h.published.get().map(\.method) == [Events.signal, Events.decision])
    }

    @Test("an order the mindset scaled down and routerd refused by a rule (the minimum notional) says it was scaled, and why")
    func scaledBelowARule() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        h.mindset.approveFraction.set(0.5)
        h.router.error.set(IPCError(.badRequest, "refused by rule min_notional: 0.0005 × 100 = 0.05 is below BTCUSDT's minimum notional 5"))
        await h.tickAt(1)
        let result = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 0.001))
        #expect(result.outcome == .notSent)
        let reason = try #require(result.reason)
        #expect(reason.contains("refused by rule min_notional") && reason.contains("sent as 0.0005 of the 0.001 proposed: state CAUTIOUS: size × 0.5"),
                "\(reason)")
        // Sent as proposed, a refusal says nothing of sizing.
        h.mindset.approveFraction.set(1)
        let whole = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 0.001))
        #expect(whole.outcome == .notSent && whole.reason?.contains("proposed") == false, "\(String(describing: whole.reason))")
    }

    @Test("blocked by mindsetd: nothing is placed, the reasons come back")
    func blocked() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        h.mindset.approveFraction.set(nil)
        await h.tickAt(1)
        let result = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        #expect(result.outcome == .blocked && result.decision?.codes == ["locked"])
        #expect(h.router.placed.get().isEmpty)
    }

    @Test("reduce-only goes straight to routerd, reduce-only, without asking mindsetd")
    func reduceOnly() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        h.mindset.failEvaluate.set(true)
        await h.tickAt(1)
        await h.coordinator.handle(fill: fill(.buy, 1, at: 100, strategy: "manual"))
        let result = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: 1, reduceOnly: true))
        #expect(result.outcome == .placed)
        #expect(h.mindset.evaluated.get().isEmpty)
        #expect(h.router.placed.get().first?.reduceOnly == true)
    }

    @Test("refused with a clear error: no price yet, a quantity not positive, a second order while the first is in flight")
    func refused() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        let noPrice = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        }
        #expect(noPrice?.code == .unavailable)
        await h.tickAt(1)
        let zero = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 0))
        }
        #expect(zero?.code == .badRequest)
        _ = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        let second = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        }
        #expect(second?.code == .conflict)
        await h.coordinator.handle(order: order(h.router.placed.get()[0], status: .filled))
        #expect(try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1)).outcome == .placed)
    }

    @Test("manual and strategy positions obey the same rule: no entry against the other's opposite side")
    func opposingSides() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules(marginRules)
        h.strategy.configure { $0.inFlight = true; $0.book = PositionBook(quantity: 1, cost: 100) }
        await h.tickAt(1)
        let result = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: 1))
        #expect(result.outcome == .notSent && result.reason?.contains("scripted holds the opposite side") == true, "\(result)")

        // The other way round: the trader is short by hand; the strategy's buy entry is not sent.
        let other = Harness()
        await other.coordinator.setSymbolRules(marginRules)
        other.strategy.isEnabled = false
        await other.tickAt(1)
        await other.coordinator.handle(fill: fill(.sell, 1, at: 100, strategy: "manual"))
        other.strategy.isEnabled = true
        await other.tickAt(2)
        #expect(other.router.placed.get().isEmpty)
        #expect(await other.coordinator.counters.entriesAgainstAnotherStrategy == 1)
    }

    @Test("the trader's positions come back with a resync after a restart, and still count against opposite entries")
    func manualPositionsResync() async throws {
        let h = Harness()
        await h.coordinator.setSymbolRules(marginRules)
        let snapshot = StrategyPositionsResponse(positions: [
            StrategyPosition(strategyId: "manual", symbol: "BTCUSDT", quantity: -1, averagePrice: 100),
        ], throughSequence: 5)
        #expect(await h.coordinator.resync(snapshot))
        await h.tickAt(1)
        #expect(h.router.placed.get().isEmpty, "the strategy's buy would net against the trader's short")
        #expect(await h.coordinator.counters.entriesAgainstAnotherStrategy == 1)
    }

    @Test("refused before anything is asked: above arsenal.manual_max_quantity, a symbol without one, a reduce-only size not tradable as asked")
    func capsAndSizes() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.coordinator.setSymbolRules(marginRules)
        await h.tickAt(1)
        await h.coordinator.handle(tick: tick("ETHUSDT", mid: 100, at: 1))
        for request in [ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 10.5),
                        ManualOrderRequest(symbol: "ETHUSDT", side: .buy, quantity: 1),
                        ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: ExactDecimal("0.000015")!, reduceOnly: true)] {
            let error = await #expect(throws: IPCError.self) { try await h.coordinator.placeManualOrder(request) }
            #expect(error?.code == .badRequest, "\(request)")
        }
        #expect(h.mindset.evaluated.get().isEmpty && h.router.placed.get().isEmpty)
    }

    @Test("a retry with the same idempotencyKey never places a second order: it answers with the first one's record")
    func idempotencyKey() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.tickAt(1)
        let request = ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "order-42")
        let first = try await h.coordinator.placeManualOrder(request)
        #expect(first.order?.clientOrderId == "bb-m-order-42")
        let inFlight = await #expect(throws: IPCError.self) { try await h.coordinator.placeManualOrder(request) }
        #expect(inFlight?.code == .conflict)
        let placed = try #require(h.router.placed.get().first)
        await h.coordinator.handle(order: order(placed, status: .filled))
        h.router.stored.set(order(placed, status: .filled))
        let retry = try await h.coordinator.placeManualOrder(request)
        #expect(retry.outcome == .placed && retry.order?.clientOrderId == "bb-m-order-42" && retry.order?.status == .filled)
        #expect(h.router.placed.get().count == 1 && h.mindset.evaluated.get().count == 1)
        let bad = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "no spaces"))
        }
        #expect(bad?.code == .badRequest)
    }

    @Test("a key that already names another order is key_reused, nothing is sent; the same order (or scaled down) is its record",
          arguments: [
              (ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: 1, idempotencyKey: "k"), "side sell"),
              (ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, reduceOnly: true, idempotencyKey: "k"), "reduce-only"),
              (ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.5")!, idempotencyKey: "k"), "quantity 0.5"),
              (ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "k"), nil),
              (ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 2, idempotencyKey: "k"), nil),
          ])
    func keyNamesAnotherOrder(request: ManualOrderRequest, difference: String?) async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.tickAt(1)
        // What routerd holds under bb-m-k: a buy of 1 the key placed long ago (the gateway has since forgotten it).
        h.router.stored.set(OrderRecord(clientOrderId: "bb-m-k", venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market, quantity: 1,
                                        status: .filled, filledQuantity: 1, strategyId: "manual", requestId: "m-k",
                                        createdAt: epoch, updatedAt: epoch))
        if let difference {
            let error = await #expect(throws: IPCError.self) { try await h.coordinator.placeManualOrder(request) }
            #expect(error?.code == .keyReused, "\(String(describing: error))")
            #expect(error?.message.contains(difference) == true && error?.message.contains("bb-m-k") == true, "\(String(describing: error))")
        } else {
            let result = try await h.coordinator.placeManualOrder(request)
            #expect(result.outcome == .placed && result.order?.clientOrderId == "bb-m-k" && result.order?.quantity == 1)
        }
        #expect(h.router.placed.get().isEmpty && h.mindset.evaluated.get().isEmpty, "nothing sent either way")
        // The symbol is free again: a new key places a new order.
        h.router.stored.set(nil)
        let next = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "new"))
        #expect(next.outcome == .placed)
    }

    @Test("a key naming a reduce-only order answers only a request of exactly its quantity: a close is never taken as scaled down")
    func keyNamesSmallerClose() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.tickAt(1)
        h.router.stored.set(OrderRecord(clientOrderId: "bb-m-k", venue: .paper, symbol: "BTCUSDT", side: .sell, type: .market, quantity: 1,
                                        status: .filled, filledQuantity: 1, reduceOnly: true, strategyId: "manual", requestId: "m-k",
                                        createdAt: epoch, updatedAt: epoch))
        let larger = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: 3, reduceOnly: true, idempotencyKey: "k"))
        }
        #expect(larger?.code == .keyReused && larger?.message.contains("never scaled") == true, "\(String(describing: larger))")
        let same = try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .sell, quantity: 1, reduceOnly: true, idempotencyKey: "k"))
        #expect(same.outcome == .placed && same.order?.clientOrderId == "bb-m-k" && same.alreadyPlaced == true)
        #expect(h.router.placed.get().isEmpty, "nothing sent either way")
    }

    @Test("while the trader's position is being rebuilt (a fill it could not take), no manual order goes out")
    func manualBookRebuilding() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.tickAt(1)
        let huge = ExactDecimal(mantissa: 999_999_999_999_999_999, scale: 0)
        await h.coordinator.handle(fill: fill(.buy, huge, at: 1, strategy: "manual", sequence: 1))
        await h.coordinator.handle(fill: fill(.buy, huge, at: 1, strategy: "manual", sequence: 2))
        let error = await #expect(throws: IPCError.self) {
            try await h.coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1))
        }
        #expect(error?.code == .conflict && error?.message.contains("being rebuilt") == true, "\(String(describing: error))")
    }

    @Test("two manual orders at once (each with its own key, looked up first): the second finds the first in flight")
    func concurrentKeyedOrders() async throws {
        let h = Harness()
        h.strategy.isEnabled = false
        await h.tickAt(1)
        h.router.holdPlaces.set(true)
        let coordinator = h.coordinator
        let first = Task {
            try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "first"))
        }
        let second = Task {
            try await coordinator.placeManualOrder(ManualOrderRequest(symbol: "BTCUSDT", side: .buy, quantity: 1, idempotencyKey: "second"))
        }
        try await waitUntil("one of them to reach routerd") { h.router.placed.get().count == 1 }
        h.router.holdPlaces.set(false)
        let outcomes = [await first.result, await second.result]
        #expect(outcomes.filter { (try? $0.get())?.outcome == .placed }.count == 1)
        let refused = outcomes.compactMap { result -> IPCError? in
            if case .failure(let error) = result { return error as? IPCError }
            return nil
        }
        #expect(refused.map(\.code) == [.conflict])
        #expect(h.router.placed.get().count == 1 && h.mindset.evaluated.get().count == 1)
    }
}
