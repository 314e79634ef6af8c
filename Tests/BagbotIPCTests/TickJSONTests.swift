import Foundation
import NIOCore
import BagbotDomain
import Testing
@testable import BagbotIPC

/// The hand-written tick codec must be invisible: the bytes the generic fast path (`JSONStreamWriter`) writes,
/// and, for every document it reads, the tick `JSONDecoder` reads; whatever `JSONDecoder` refuses, it declines.
@Suite("Ticks' hand-written JSON")
struct TickJSONTests {
    static func handWritten(_ tick: Tick) -> [UInt8]? {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        guard TickJSON.write(tick, into: &buffer) else { return nil }
        return Array(buffer.readableBytesView)
    }

    static func generic(_ tick: Tick) -> [UInt8]? {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        let writer = JSONStreamWriter(taking: &buffer)
        let succeeded = writer.encodeDocument(tick)
        buffer = writer.releaseBuffer()
        return succeeded ? Array(buffer.readableBytesView) : nil
    }

    static func read(_ bytes: [UInt8]) -> Tick? {
        bytes.withUnsafeBytes { TickJSON.read($0) }
    }

    static func foundation(_ bytes: [UInt8]) -> Tick? {
        try? IPCCoding.makeDecoder().decode(Tick.self, from: Data(bytes))
    }

    /// Equal to the digit: the same scale as well as the same value.
    static func identical(_ a: Tick, _ b: Tick) -> Bool {
        a == b && [a.bid, a.ask, a.last, a.volume].map(\.description) == [b.bid, b.ask, b.last, b.volume].map(\.description)
    }

    static func randomDecimal(_ random: inout SplitMix64) -> ExactDecimal {
        let scale = Int(random.next() % 19)
        switch random.next() % 6 {
        case 0: return ExactDecimal(mantissa: 0, scale: scale)
        case 1:
            // Beyond a UInt64's digits: 30 digits at scale 18.
            return ExactDecimal(mantissa: Int128(random.next() % 1_000_000_000_000) * 1_000_000_000_000_000_000, scale: 18)
        default:
            let limit = UInt64(pow(10.0, Double(min(18, scale + 1 + Int(random.next() % 6)))))
            let magnitude = Int128(random.next() % limit)
            return ExactDecimal(mantissa: random.next() % 4 == 0 ? -magnitude : magnitude, scale: scale)
        }
    }

    static func randomTick(_ random: inout SplitMix64) -> Tick {
        let symbols = ["BTCUSDT", "EURUSD", "A\"B", "back\\slash", "tab\there", "é-ü", "new\nline", ""]
        let times: [Double] = [1_795_566_944.072_570_8, 0, -1.5, 1e300, 1_582_329_600, 5e-324,
                               Double(random.next() % 4_000_000_000) + Double(random.next() % 1_000_000) / 1_000_000]
        let sequences: [UInt64] = [0, 1, UInt64.max, random.next()]
        return Tick(symbol: symbols[Int(random.next() % UInt64(symbols.count))],
                    time: Date(timeIntervalSince1970: times[Int(random.next() % UInt64(times.count))]),
                    bid: randomDecimal(&random), ask: randomDecimal(&random), last: randomDecimal(&random), volume: randomDecimal(&random),
                    sequence: sequences[Int(random.next() % UInt64(sequences.count))],
                    source: random.next() % 2 == 0 ? "replay:btcusdt-trades-20200222.csv" : "binance/\u{1F4C8}")
    }

    @Test("writes the generic path's bytes, and reads them back to the same tick as JSONDecoder, to the digit")
    func matchesTheGenericPath() throws {
        var random = SplitMix64(seed: 2026_12_04)
        for _ in 0..<20_000 {
            let tick = Self.randomTick(&random)
            let bytes = try #require(Self.handWritten(tick))
            let expected = try #require(Self.generic(tick))
            #expect(bytes == expected, "\(String(decoding: bytes, as: UTF8.self)) != \(String(decoding: expected, as: UTF8.self))")
            let read = try #require(Self.read(bytes))
            let decoded = try #require(Self.foundation(bytes))
            #expect(Self.identical(read, decoded))
            #expect(Self.identical(read, tick))
        }
    }

    @Test("a time that is not finite is left to the generic path (and JSONEncoder's refusal)")
    func nonFiniteTime() {
        let tick = Tick(symbol: "X", time: Date(timeIntervalSince1970: .infinity), bid: 1, ask: 1, last: 1, volume: 0, source: "t")
        #expect(Self.handWritten(tick) == nil)
    }

    /// Read by both: another order, white space, an unknown member, escaped strings.
    static let readable = [
        #"{"source":"s","sequence":7,"volume":"0","last":"1.5","ask":"1.6","bid":"1.4","time":12.5,"symbol":"X"}"#,
        #" { "symbol" : "X" , "time" : 1e2 , "bid" : "1" , "ask" : "2" , "last" : "1" , "volume" : "0" , "sequence" : 1 , "source" : "s" , "extra" : [1] } "#,
        #"{"symbol":"X","time":1,"bid":"1e3","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X\u0041\n","time":-0.0,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
    ]

    /// Declined: refused by JSONDecoder, or (a repeated key) refused by the IPC layer's own check after declining.
    static let declined = [
        #"{"time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","symbol":"Y","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","time":"1","bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1x","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":1,"ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":-1,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":18446744073709551616,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1.0,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":null}"#,
        #"{"symbol":"X","time":1e400,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"}"#,
        #"{"symbol":"X","time":1,"bid":"1","ask":"2","last":"1","volume":"0","sequence":1,"source":"s"} x"#,
        #"["X",1]"#,
    ]

    @Test("reads the tick JSONDecoder reads", arguments: readable)
    func readsWhatJSONDecoderReads(_ text: String) throws {
        let read = try #require(Self.read(Array(text.utf8)))
        let decoded = try #require(Self.foundation(Array(text.utf8)))
        #expect(Self.identical(read, decoded))
    }

    @Test("declines what JSONDecoder refuses, and repeated keys", arguments: declined)
    func declines(_ text: String) {
        #expect(Self.read(Array(text.utf8)) == nil)
    }

    @Test("IPC frames carry ticks through it both ways")
    func throughTheEnvelope() throws {
        let tick = Tick(symbol: "BTCUSDT", time: Date(timeIntervalSince1970: 1_795_566_944.072_570_8), bid: try #require(ExactDecimal("9686.35")),
                        ask: try #require(ExactDecimal("9687.33")), last: try #require(ExactDecimal("9686.84")),
                        volume: try #require(ExactDecimal("0.025")), sequence: 964, source: "replay:btcusdt-trades-20200222.csv")
        let frame = try IPCCoding.frame(id: nil, type: .event, method: Events.tick, body: tick)
        #expect(String(buffer: frame) == #"{"v":1,"type":"event","method":"router.tick","body":{"symbol":"BTCUSDT","time":1795566944.0725708,"bid":"9686.35","ask":"9687.33","last":"9686.84","volume":"0.025","sequence":964,"source":"replay:btcusdt-trades-20200222.csv"}}"#)
        #expect(Self.identical(try IPCClient.decodeEvent(Tick.self, from: frame), tick))
    }

    @Test("a tick frame's symbol is read without decoding it, never from inside a string, never when escaped")
    func symbolOfAFrame() throws {
        let tick = Tick(symbol: "BTCUSDT", time: Date(timeIntervalSince1970: 1), bid: 1, ask: 2, last: 1, volume: 0, source: "s")
        let frame = try IPCCoding.frame(id: nil, type: .event, method: Events.tick, body: tick, lengthPrefixed: true)
        #expect(IPCClient.tickSymbol(in: frame) == "BTCUSDT")
        // A request id that spells the marker holds it escaped: the body's own symbol is found.
        let tricky = try IPCCoding.frame(id: nil, type: .event, method: Events.tick, requestId: #"x"body":{"symbol":"EVIL"#, body: tick)
        #expect(String(buffer: tricky).contains(#"\"body\":{\"symbol\":\"EVIL"#))
        #expect(IPCClient.tickSymbol(in: tricky) == "BTCUSDT")
        var escaped = tick
        escaped.symbol = "BTC\"USDT"
        #expect(IPCClient.tickSymbol(in: try IPCCoding.frame(id: nil, type: .event, method: Events.tick, body: escaped)) == nil)
        #expect(IPCClient.tickSymbol(in: try IPCCoding.frame(id: nil, type: .event, method: Events.fill, body: ["a": 1])) == nil)
    }
}
