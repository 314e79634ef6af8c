import Foundation
import Testing
import BagbotDomain

@Suite("Tick: a value, whatever its storage")
struct TickValueTests {
    static let tick = Tick(symbol: "BTCUSDT", time: Date(timeIntervalSince1970: 1_582_329_600.25), bid: ExactDecimal("9663.37")!,
                           ask: ExactDecimal("9663.47")!, last: ExactDecimal("9663.42")!, volume: ExactDecimal("0.015")!,
                           sequence: 7, source: "replay:btcusdt-trades-20200222.csv")

    @Test func aCopyChangedLeavesTheOriginal() {
        let original = Self.tick
        var copy = original
        copy.symbol = "ETHUSDT"
        copy.time = Date(timeIntervalSince1970: 0)
        copy.bid = 1
        copy.ask = 2
        copy.last = 3
        copy.volume = 4
        copy.sequence = 8
        copy.source = "synthetic"
        #expect(original.symbol == "BTCUSDT" && original.time == Date(timeIntervalSince1970: 1_582_329_600.25))
        #expect(original.bid == ExactDecimal("9663.37")! && original.ask == ExactDecimal("9663.47")!)
        #expect(original.last == ExactDecimal("9663.42")! && original.volume == ExactDecimal("0.015")!)
        #expect(original.sequence == 7 && original.source == "replay:btcusdt-trades-20200222.csv")
        #expect(copy != original)
        #expect(copy == Tick(symbol: "ETHUSDT", time: Date(timeIntervalSince1970: 0), bid: 1, ask: 2, last: 3, volume: 4, sequence: 8, source: "synthetic"))
    }

    @Test func equalByFieldsNotByStorage() {
        var other = Tick(symbol: "BTCUSDT", time: Self.tick.time, bid: Self.tick.bid, ask: Self.tick.ask, last: Self.tick.last,
                         volume: Self.tick.volume, sequence: 7, source: Self.tick.source)
        #expect(other == Self.tick)
        other.sequence = 6
        #expect(other != Self.tick)
    }

    /// The JSON of the plain struct `Tick` was before its fields moved behind a reference (ticks on the wire, and in
    /// files written before).
    @Test func jsonIsThePlainStructsToTheByte() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the keys' order is the encoder's, not the type's
        let written = try encoder.encode(Self.tick)
        #expect(String(decoding: written, as: UTF8.self)
            == #"{"ask":"9663.47","bid":"9663.37","last":"9663.42","sequence":7,"source":"replay:btcusdt-trades-20200222.csv","symbol":"BTCUSDT","time":604022400.25,"volume":"0.015"}"#)
        #expect(try JSONDecoder().decode(Tick.self, from: written) == Self.tick)
    }

    @Test func printedByItsFields() {
        #expect("\(Self.tick)".hasPrefix(#"Tick(symbol: "BTCUSDT", time: 2020-02-22 00:00:00 +0000, bid: 9663.37, ask: 9663.47, last: 9663.42, volume: 0.015, sequence: 7, source: "replay:"#))
    }

    @Test func aMissingFieldIsRefusedAsBefore() throws {
        let json = #"{"symbol":"BTCUSDT","time":0,"bid":"1","ask":"2","last":"1.5","volume":"0","source":"x"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Tick.self, from: Data(json.utf8)) }
        do {
            _ = try JSONDecoder().decode(Tick.self, from: Data(json.utf8))
        } catch DecodingError.keyNotFound(let key, _) {
            #expect(key.stringValue == "sequence")
        }
    }
}
