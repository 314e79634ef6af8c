import Testing
import BagbotDomain

@Suite("PerSymbol: values by symbol on the tick path")
struct PerSymbolTests {
    /// Seeded sets, removals and reads over up to 20 symbols (so across the switch from comparing to a
    /// dictionary of places, and back on removal) answer as a `Dictionary` does.
    @Test(arguments: [1, 7, 42, 2026] as [UInt64])
    func answersAsADictionaryDoes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var map = PerSymbol<Int>()
        var expected: [String: Int] = [:]
        let symbols = (0..<20).map { "SYM\($0)USDT" }
        for step in 0..<5_000 {
            let symbol = symbols[Int(random.next() % UInt64(symbols.count))]
            switch random.next() % 4 {
            case 0:
                map[symbol] = nil
                expected[symbol] = nil
            case 1:
                #expect(map[symbol] == expected[symbol], "step \(step): \(symbol)")
            default:
                map[symbol] = step
                expected[symbol] = step
            }
            #expect(map.count == expected.count)
        }
        for symbol in symbols { #expect(map[symbol] == expected[symbol], "\(symbol)") }
        #expect(Dictionary(uniqueKeysWithValues: map.entries.map { ($0.symbol, $0.value) }) == expected)
    }

    @Test func entriesKeepTheOrderSymbolsCameIn() {
        var map = PerSymbol<String>()
        #expect(map.isEmpty)
        map["EURUSD"] = "a"
        map["BTCUSDT"] = "b"
        map["EURUSD"] = "c"
        #expect(map.entries.map(\.symbol) == ["EURUSD", "BTCUSDT"])
        #expect(map.entries.map(\.value) == ["c", "b"])
        #expect(map["ETHUSDT"] == nil)
        #expect(!map.isEmpty && map.count == 2)
    }
}
