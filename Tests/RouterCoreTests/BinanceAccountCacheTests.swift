import BagbotDomain
import Testing
@testable import RouterCore

@Suite("Binance balances kept by the user data stream")
struct BinanceAccountCacheTests {
    private func balance(_ asset: String, _ free: ExactDecimal, _ locked: ExactDecimal = .zero) -> AssetBalance {
        AssetBalance(asset: asset, free: free, locked: locked)
    }

    @Test("nothing is served before a snapshot; events move the assets they name; an asset left out of a snapshot holds nothing")
    func snapshotThenEvents() {
        var cache = BinanceAccountCache()
        cache.apply([balance("BTC", 1)], updatedAt: 5)
        #expect(cache.current() == nil, "events alone do not make a whole account")
        cache.seed([balance("USDT", 1_000), balance("ETH", 2)], updatedAt: 10, requestedIn: cache.generation)
        #expect(cache.current() == [balance("ETH", 2), balance("USDT", 1_000)], "BTC is not in the newer snapshot: it holds nothing")
        cache.apply([balance("USDT", 940, 50), balance("BTC", 0.001)], updatedAt: 11)
        #expect(cache.current() == [balance("BTC", 0.001), balance("ETH", 2), balance("USDT", 940, 50)])
        cache.apply([balance("ETH", 0)], updatedAt: 12)
        #expect(cache.current()?.map(\.asset) == ["BTC", "USDT"], "an emptied asset is not listed")
        cache.empty()
        #expect(cache.current() == nil)
    }

    @Test("the newer word wins: an event delayed behind a snapshot, or a snapshot read while an event came, undoes nothing")
    func newerWins() {
        var cache = BinanceAccountCache()
        cache.seed([balance("USDT", 1_000)], updatedAt: 10, requestedIn: cache.generation)
        cache.apply([balance("USDT", 990)], updatedAt: 20)
        cache.seed([balance("USDT", 1_000), balance("BTC", 3)], updatedAt: 15, requestedIn: cache.generation)  // read before the event, answered after it
        #expect(cache.current() == [balance("BTC", 3), balance("USDT", 990)])
        cache.apply([balance("BTC", 2)], updatedAt: 14)  // older than the snapshot that set BTC
        #expect(cache.current() == [balance("BTC", 3), balance("USDT", 990)])
        cache.apply([balance("BTC", 2)], updatedAt: 15)  // the same time: the event is at least as new
        #expect(cache.current() == [balance("BTC", 2), balance("USDT", 990)])
        cache.seed([balance("BTC", 3), balance("USDT", 990)], updatedAt: 15, requestedIn: cache.generation)  // and stays so
        #expect(cache.current() == [balance("BTC", 2), balance("USDT", 990)])
    }

    @Test("a snapshot requested before the cache was emptied is not taken; a snapshot a minute old is read again")
    func generationsAndAge() {
        var cache = BinanceAccountCache()
        let asked = cache.generation
        cache.empty()  // the stream subscribed again while the read was out: what it missed meanwhile is unknown
        cache.seed([balance("USDT", 1_000)], updatedAt: 10, requestedIn: asked)
        #expect(cache.current() == nil)
        let start = ContinuousClock.now
        cache.seed([balance("USDT", 1_000)], updatedAt: 10, requestedIn: cache.generation, now: start)
        #expect(cache.current(now: start + .seconds(59)) == [balance("USDT", 1_000)])
        #expect(cache.current(now: start + BinanceAccountCache.maximumAge) == nil)
    }
}
