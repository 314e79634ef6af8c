import Foundation
import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Binance market streams → ticks")
struct BinanceMarketDataTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func book(_ symbol: String, bid: String, ask: String) -> [UInt8] {
        Array(#"{"stream":"\#(symbol.lowercased())@bookTicker","data":{"u":400900217,"s":"\#(symbol)","b":"\#(bid)","B":"31.21000000","a":"\#(ask)","A":"40.66000000"}}"#.utf8)
    }

    static func trade(_ symbol: String, price: String, quantity: String, time: Int64 = 1_672_515_782_136) -> [UInt8] {
        Array(#"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":1672515782136,"s":"\#(symbol)","t":12345,"p":"\#(price)","q":"\#(quantity)","T":\#(time),"m":true,"M":true}}"#.utf8)
    }

    @Test("the combined stream's path names each symbol's bookTicker and trade streams, lower-case")
    func path() {
        #expect(BinanceMarketData.streamPath(["ETHUSDT", "BTCUSDT"])
                == "/stream?streams=btcusdt@bookTicker/btcusdt@trade/ethusdt@bookTicker/ethusdt@trade")
    }

    @Test("a book update is a tick at its exact bid and ask (last: the mid); a trade carries the last book, its price and size")
    func ticks() {
        var data = BinanceMarketData(symbols: ["BTCUSDT"])
        #expect(data.read(Self.trade("BTCUSDT", price: "60000.00", quantity: "0.5"), receivedAt: Self.now) == .ignored,
                "a trade before any book has no bid and ask to carry")
        guard case .tick(let book) = data.read(Self.book("BTCUSDT", bid: "60000.00000000", ask: "60000.01000000"), receivedAt: Self.now) else {
            Issue.record("a book update is a tick")
            return
        }
        #expect(book.bid == ExactDecimal("60000")! && book.ask == ExactDecimal("60000.01")! && book.last == ExactDecimal("60000.005")!)
        #expect(book.bid.description == "60000.00000000", "Binance's digits are kept")
        #expect(book.sequence == 1 && book.source == "binance" && book.time == Self.now && book.volume.isZero)
        guard case .tick(let trade) = data.read(Self.trade("BTCUSDT", price: "60000.01", quantity: "0.25"), receivedAt: Self.now) else {
            Issue.record("a trade is a tick")
            return
        }
        #expect(trade.last == ExactDecimal("60000.01")! && trade.volume == ExactDecimal("0.25")! && trade.bid == book.bid)
        #expect(trade.time == Date(timeIntervalSince1970: 1_672_515_782.136) && trade.sequence == 2)
    }

    @Test("after a lost connection each symbol's numbering skips one (a gap consumers can see), and the old book is forgotten")
    func gapAfterReconnect() {
        var data = BinanceMarketData(symbols: ["BTCUSDT", "ETHUSDT"])
        _ = data.read(Self.book("BTCUSDT", bid: "1.00", ask: "1.01"), receivedAt: Self.now)
        _ = data.read(Self.book("BTCUSDT", bid: "1.00", ask: "1.01"), receivedAt: Self.now)
        data.connectionLost()
        #expect(data.read(Self.trade("BTCUSDT", price: "1.00", quantity: "1"), receivedAt: Self.now) == .ignored)
        guard case .tick(let next) = data.read(Self.book("BTCUSDT", bid: "1.00", ask: "1.01"), receivedAt: Self.now),
              case .tick(let eth) = data.read(Self.book("ETHUSDT", bid: "2.00", ask: "2.01"), receivedAt: Self.now),
              case .tick(let after) = data.read(Self.book("BTCUSDT", bid: "1.00", ask: "1.01"), receivedAt: Self.now) else {
            Issue.record("book updates are ticks")
            return
        }
        #expect(next.sequence == 4, "3 skipped: ticks may be missing before it")
        #expect(eth.sequence == 1, "a symbol with no tick before has nothing to skip")
        #expect(after.sequence == 5)
    }

    @Test("serverShutdown asks for a reconnect; other symbols, other streams and malformed messages are not ticks")
    func otherMessages() {
        var data = BinanceMarketData(symbols: ["BTCUSDT"])
        #expect(data.read(Array(#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#.utf8), receivedAt: Self.now)
                == .serverShutdown)
        #expect(data.read(Self.book("ETHUSDT", bid: "1.00", ask: "1.01"), receivedAt: Self.now) == .ignored)
        for bad in [#"{"stream":"btcusdt@bookTicker","data":{"s":"BTCUSDT","b":1.0,"a":"1.01"}}"#, "not json", #"{"result":null,"id":1}"#,
                    #"{"stream":"btcusdt@bookTicker","data":{"s":"BTCUSDT"}}"#] {
            guard case .unreadable = data.read(Array(bad.utf8), receivedAt: Self.now) else {
                Issue.record("\(bad) should be unreadable")
                continue
            }
        }
    }
}

@Suite("Binance user data stream messages")
struct BinanceUserStreamMessageTests {
    @Test("an executionReport names the order (on a cancel, C is the order and c the cancel); answers and the end of the stream are told apart")
    func messages() {
        // user-data-stream.md's example, trimmed.
        let report = #"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","C":"","x":"NEW","X":"NEW","i":4293153,"l":"0.00000000","z":"0.00000000","n":"0","N":null,"t":-1}}"#
        #expect(BinanceUserStreamMessage.read(Array(report.utf8)) == .orderChanged(clientOrderId: "mUvoqJxFIILMdfAW5iGSOW", symbol: "ETHBTC", status: "NEW", filled: "0.00000000"))
        // An order self-trade prevention expired (user-data-stream.md, "prevented quantity"): `B` is its last prevented
        // quantity, `u` its trade group, not an account update's balances and time.
        let prevented = #"{"subscriptionId":0,"event":{"e":"executionReport","E":1,"s":"BTCUSDT","c":"bb-9","C":"","x":"TRADE_PREVENTION","X":"EXPIRED_IN_MATCH","z":"0.00000000","v":3,"A":"3.000000","B":"3.000000","u":1,"U":37}}"#
        #expect(BinanceUserStreamMessage.read(Array(prevented.utf8)) == .orderChanged(clientOrderId: "bb-9", symbol: "BTCUSDT", status: "EXPIRED_IN_MATCH", filled: "0.00000000"))
        let cancel = #"{"subscriptionId":0,"event":{"e":"executionReport","s":"BTCUSDT","c":"cancel-1","C":"bb-7","x":"CANCELED","X":"CANCELED"}}"#
        #expect(BinanceUserStreamMessage.read(Array(cancel.utf8)) == .orderChanged(clientOrderId: "bb-7", symbol: "BTCUSDT", status: "CANCELED", filled: nil))
        #expect(BinanceUserStreamMessage.read(Array(#"{"id":"bagbot-uds-1","status":200,"result":{"subscriptionId":0}}"#.utf8))
                == .answer(id: "bagbot-uds-1", status: 200, error: nil, retryAfter: nil))
        #expect(BinanceUserStreamMessage.read(Array(#"{"id":"x","status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#.utf8))
                == .answer(id: "x", status: 401, error: "-2015: Invalid API-key, IP, or permissions for action.", retryAfter: nil))
        let banned = #"{"id":"y","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}}}"#
        #expect(BinanceUserStreamMessage.read(Array(banned.utf8))
                == .answer(id: "y", status: 418, error: "-1003: Way too much request weight used; IP banned until 1659146400000.",
                           retryAfter: Date(timeIntervalSince1970: 1_659_146_400)))
        #expect(BinanceUserStreamMessage.read(Array(#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#.utf8)) == .terminated)
        // user-data-stream.md's examples: balances as of `u`; a deposit says only that balances moved.
        let position = #"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.000000","l":"0.000000"}]}}"#
        #expect(BinanceUserStreamMessage.read(Array(position.utf8))
                == .balances([AssetBalance(asset: "ETH", free: ExactDecimal("10000.000000")!, locked: .zero)], updatedAt: 1_564_034_571_073))
        let deposit = #"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}"#
        #expect(BinanceUserStreamMessage.read(Array(deposit.utf8)) == .balancesMoved)
        guard case .unreadable = BinanceUserStreamMessage.read(Array(#"{"event":{"e":"outboundAccountPosition","E":1,"B":[]}}"#.utf8)) else {
            Issue.record("balances without their update time are not read"); return
        }
        #expect(BinanceUserStreamMessage.read(Array(#"{"subscriptionId":0,"event":{"e":"externalLockUpdate","E":1,"a":"BTC","d":"1","T":1}}"#.utf8)) == .balancesMoved)
        #expect(BinanceUserStreamMessage.read(Array(#"{"subscriptionId":0,"event":{"e":"listStatus","E":1}}"#.utf8)) == .ignored)
        #expect(BinanceUserStreamMessage.read(Array(#"{"subscriptionId":0,"event":{"e":"serverShutdown","E":1770123456789}}"#.utf8)) == .serverShutdown)
        guard case .unreadable = BinanceUserStreamMessage.read(Array("[1,2]".utf8)) else { Issue.record("an array is not a message"); return }
    }
}
