import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Binance orders and clock")
struct BinanceOrdersTests {
    private func request(_ id: String, _ type: OrderType, quantity: ExactDecimal, price: ExactDecimal? = nil,
                         timeInForce: TimeInForce? = nil) -> VenueOrderRequest {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        return VenueOrderRequest(OrderRecord(clientOrderId: id, venue: .binance, symbol: "BTCUSDT", side: .sell, type: type, quantity: quantity,
                                             limitPrice: price, status: .sent, timeInForce: timeInForce, createdAt: now, updatedAt: now))
    }

    @Test("a market order sends its exact quantity and BAGBOT's client order id, and asks for the FULL answer")
    func marketOrder() throws {
        let parameters = try BinanceOrders.newOrderParameters(request("bb-ea3ac22e-1", .market, quantity: ExactDecimal("0.00120")!))
        #expect(BinanceSigning.payload(parameters)
                == "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.0012&newClientOrderId=bb-ea3ac22e-1&newOrderRespType=FULL",
                "trailing zeros dropped: Binance refuses more than 8 decimals even when they are 0 (-1111)")
    }

    @Test("a limit order is good till cancelled, at its exact price")
    func limitOrder() throws {
        let parameters = try BinanceOrders.newOrderParameters(request("bb-1", .limit, quantity: 1, price: ExactDecimal("0.10")!))
        #expect(BinanceSigning.payload(parameters)
                == "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=bb-1&newOrderRespType=FULL")
    }

    @Test("an IOC or FOK limit order carries its time in force; a post-only one is LIMIT_MAKER, with none (rest-api.md \"New order\")")
    func timeInForce() throws {
        let payloads = try [TimeInForce.ioc, .fok, .postOnly].map {
            BinanceSigning.payload(try BinanceOrders.newOrderParameters(request("bb-1", .limit, quantity: 1, price: ExactDecimal("0.10")!, timeInForce: $0)))
        }
        #expect(payloads == [
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=IOC&quantity=1&price=0.1&newClientOrderId=bb-1&newOrderRespType=FULL",
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=FOK&quantity=1&price=0.1&newClientOrderId=bb-1&newOrderRespType=FULL",
            "symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&quantity=1&price=0.1&newClientOrderId=bb-1&newOrderRespType=FULL",
        ])
        for timeInForce in TimeInForce.allCases {
            #expect(throws: VenueError.self) { try BinanceOrders.newOrderParameters(request("bb-1", .limit, quantity: 1, timeInForce: timeInForce)) }
        }
        #expect(BinanceSigning.payload(try BinanceOrders.newOrderParameters(request("bb-1", .limit, quantity: 1, price: 1, timeInForce: .gtc)))
                == "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=1&newClientOrderId=bb-1&newOrderRespType=FULL")
    }

    @Test("what Binance would refuse is refused before sending: a client order id off its pattern, a limit without a price")
    func refusals() {
        #expect(BinanceOrders.isValidClientOrderId("bb-ea3ac22e-1_X"))
        for bad in ["", String(repeating: "a", count: 37), "bb:1", "bb 1", "bb/1", "bé"] {
            #expect(!BinanceOrders.isValidClientOrderId(bad), "\(bad)")
        }
        #expect(throws: VenueError.self) { try BinanceOrders.newOrderParameters(request("bb:1", .market, quantity: 1)) }
        #expect(throws: VenueError.self) { try BinanceOrders.newOrderParameters(request("bb-1", .limit, quantity: 1)) }
        #expect(throws: VenueError.self) { try BinanceOrders.newOrderParameters(request("bb-1", .market, quantity: 0)) }
    }

    @Test("each documented order status has its place in the lifecycle; an undocumented one is not guessed")
    func statuses() {
        #expect(BinanceOrders.status("NEW") == .acknowledged)
        #expect(BinanceOrders.status("PARTIALLY_FILLED") == .partiallyFilled)
        #expect(BinanceOrders.status("FILLED") == .filled)
        #expect(BinanceOrders.status("CANCELED") == .cancelled)
        #expect(BinanceOrders.status("REJECTED") == .rejected)
        #expect(BinanceOrders.status("EXPIRED") == .expired && BinanceOrders.status("EXPIRED_IN_MATCH") == .expired)
        #expect(BinanceOrders.status("PENDING_CANCEL") == .acknowledged)
        #expect(BinanceOrders.status("SOMETHING_NEW") == nil)
    }

    @Test("the clock takes the midpoint of the round trip, rounds the timestamp down, and prefers tight samples")
    func clock() {
        var clock = BinanceClock()
        let sent = Date(timeIntervalSince1970: 1_800_000_000)
        // Binance is 2,500 ms ahead; the answer took 40 ms, the server read its clock halfway.
        clock.observe(serverTimeMilliseconds: 1_800_000_002_520, sent: sent, received: sent.addingTimeInterval(0.040))
        #expect(abs(clock.offsetMilliseconds - 2_500) < 0.001)
        #expect(clock.timestamp(at: sent.addingTimeInterval(1)) == 1_800_000_003_500)
        // A slow sample (1 s round trip) a few seconds later does not replace a tight one...
        clock.observe(serverTimeMilliseconds: 1_800_000_010_000, sent: sent.addingTimeInterval(5), received: sent.addingTimeInterval(6),
                      previousAt: sent.addingTimeInterval(0.040))
        #expect(abs(clock.offsetMilliseconds - 2_500) < 0.001 && clock.roundTripMilliseconds.map { abs($0 - 40) < 0.001 } == true)
        // ...but one a minute on does: a stale estimate is worse than a loose one.
        clock.observe(serverTimeMilliseconds: 1_800_000_071_500, sent: sent.addingTimeInterval(70), received: sent.addingTimeInterval(71),
                      previousAt: sent.addingTimeInterval(0.040))
        #expect(abs(clock.offsetMilliseconds - 1_000) < 0.001)
    }
}
