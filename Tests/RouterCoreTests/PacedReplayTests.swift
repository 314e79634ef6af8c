import Foundation
import Testing
import BagbotDomain
@testable import RouterCore

@Suite("Paced replay: the feed waits for its subscriber, and fills at the quote an order was decided on")
struct PacedReplayTests {
    static func tick(_ sequence: UInt64, bid: ExactDecimal = 100, symbol: String = "BTCUSDT") -> Tick {
        Tick(symbol: symbol, time: Date(timeIntervalSince1970: 1_582_329_600 + Double(sequence)), bid: bid, ask: try! bid + 1, last: bid,
             volume: 0, sequence: sequence, source: "test")
    }

    /// Patience no test outlasts: a subscriber is let go after it (the test that checks letting go sets its own), and
    /// a suite that starves this test's task for more than 30 s (blocking calls elsewhere on the 2-thread pool) would
    /// otherwise have it let go, and no room ever again.
    static let forever = Duration.seconds(3_600)

    /// Whether `waitForRoom` returns within a short while (it is woken by acks, so this is not a timing race).
    static func hasRoom(_ pacer: TickPacer) async -> Bool {
        // Room now needs no scheduling (a loaded test pool can take seconds to run a task); otherwise waitForRoom
        // gets its chance to make room (letting go of a silent subscriber).
        if pacer.hasRoomNow { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await pacer.waitForRoom()
                return true
            }
            group.addTask {
                // Long enough for a wake-up on a loaded machine (at 300 ms a full suite beside builds missed it).
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test func theFeedWaitsForASubscriberThenStaysWithinTheWindow() async {
        let pacer = TickPacer(window: 4, patience: Self.forever)
        let connections = (NSObject(), NSObject())
        let subscriber = ObjectIdentifier(connections.0)
        #expect(await !Self.hasRoom(pacer), "no tick before a subscriber asks to pace the feed")
        #expect(pacer.register(subscriber) && !pacer.register(subscriber))
        for sequence in 1...4 {
            #expect(await Self.hasRoom(pacer))
            pacer.published(Self.tick(UInt64(sequence)))
        }
        #expect(await !Self.hasRoom(pacer), "4 ticks unacknowledged: the window is full")
        pacer.acknowledge(subscriber, symbol: "BTCUSDT", sequence: 2)
        #expect(await Self.hasRoom(pacer), "2 acknowledged: room for 2 more")
        pacer.published(Self.tick(5))
        pacer.published(Self.tick(6))
        #expect(await !Self.hasRoom(pacer))
        pacer.acknowledge(subscriber, symbol: "EURUSD", sequence: 6)
        #expect(await !Self.hasRoom(pacer), "a tick never published acknowledges nothing")
        pacer.acknowledge(subscriber, symbol: "BTCUSDT", sequence: 1)
        #expect(await !Self.hasRoom(pacer), "an older acknowledgement does not move it back")
        pacer.remove(subscriber)
        #expect(await !Self.hasRoom(pacer), "its subscriber gone, the feed waits for the next")
        let next = ObjectIdentifier(connections.1)
        pacer.register(next)
        #expect(await Self.hasRoom(pacer), "a new subscriber starts from the feed's position")
    }

    /// Two files of one symbol number their ticks alike: an acknowledgement counts up to the first such tick after
    /// the last one acknowledged, never a later one the subscriber has not reached.
    @Test func repeatedSequencesAreNotOverAcknowledged() async {
        let pacer = TickPacer(window: 3, patience: Self.forever)
        let connection = NSObject()
        let subscriber = ObjectIdentifier(connection)
        pacer.register(subscriber)
        for sequence: UInt64 in [1, 2, 1] { pacer.published(Self.tick(sequence)) }
        #expect(await !Self.hasRoom(pacer))
        pacer.acknowledge(subscriber, symbol: "BTCUSDT", sequence: 1)
        #expect(await Self.hasRoom(pacer), "the first tick 1: one acknowledged")
        pacer.published(Self.tick(2))
        #expect(await !Self.hasRoom(pacer), "3 unacknowledged again: the acknowledgement did not jump to the second tick 1")
        pacer.acknowledge(subscriber, symbol: "BTCUSDT", sequence: 1)
        #expect(await Self.hasRoom(pacer), "now the second tick 1")
    }

    @Test func theSlowestSubscriberPacesTheFeed() async {
        let pacer = TickPacer(window: 2, patience: Self.forever)
        let connections = (NSObject(), NSObject())
        let (fast, slow) = (ObjectIdentifier(connections.0), ObjectIdentifier(connections.1))
        pacer.register(fast)
        pacer.register(slow)
        pacer.published(Self.tick(1))
        pacer.published(Self.tick(2))
        pacer.acknowledge(fast, symbol: "BTCUSDT", sequence: 2)
        #expect(await !Self.hasRoom(pacer))
        pacer.acknowledge(slow, symbol: "BTCUSDT", sequence: 1)
        #expect(await Self.hasRoom(pacer))
    }

    /// A subscriber that stops acknowledging (its tick loop stuck, or it never heard it was pacing) is let go
    /// after `patience`, and the feed goes on with the others.
    @Test func aSilentSubscriberIsLetGo() async {
        let pacer = TickPacer(window: 2, patience: .milliseconds(200))
        let connections = (NSObject(), NSObject())
        let (silent, live) = (ObjectIdentifier(connections.0), ObjectIdentifier(connections.1))
        pacer.register(silent)
        pacer.register(live)
        pacer.published(Self.tick(1))
        pacer.published(Self.tick(2))
        pacer.acknowledge(live, symbol: "BTCUSDT", sequence: 2)
        let waited = ContinuousClock.now
        await pacer.waitForRoom()
        #expect(ContinuousClock.now - waited >= .milliseconds(200), "not before its patience ran out")
        #expect(pacer.subscriberCount == 1)
    }

    @Test func aPinnedOrderFillsAtTheQuoteItWasDecidedOn() {
        var settings = PaperExchange.Settings(RouterSettings())
        settings.pinnedQuotes = 8
        var exchange = PaperExchange(settings: settings)
        for sequence in 1...5 { exchange.record(Self.tick(UInt64(sequence), bid: ExactDecimal(100 + sequence)!)) }
        func order(_ id: String) -> OrderRecord {
            OrderRecord(clientOrderId: id, venue: .paper, symbol: "BTCUSDT", side: .buy, type: .market, quantity: 0.001,
                        createdAt: Date(), updatedAt: Date())
        }
        guard case .filled(let pinned) = exchange.submit(order("a"), quoteSequence: 3),
              case .filled(let latest) = exchange.submit(order("b")),
              case .filled(let forgotten) = exchange.submit(order("c"), quoteSequence: 99) else {
            Issue.record("market orders with a fresh quote fill")
            return
        }
        // A buy at the ask plus 1 bp of slippage, up to the tick size 0.01.
        #expect(pinned.price == ExactDecimal("104.02")!, "tick 3's ask 104")
        #expect(latest.price == ExactDecimal("106.02")!, "the latest ask 106")
        #expect(forgotten.price == latest.price, "a tick no longer kept: the latest")
        #expect(pinned.time == Self.tick(3).time)
        // A limit order is judged and filled at the latest quote whatever it names: no picking a past price.
        var limit = order("e")
        limit.type = .limit
        limit.limitPrice = 105
        #expect(exchange.submit(limit, quoteSequence: 1) == .resting, "tick 1's ask 102 would have filled it; the latest ask 106 does not")

        var live = PaperExchange(settings: PaperExchange.Settings(RouterSettings()))
        for sequence in 1...5 { live.record(Self.tick(UInt64(sequence), bid: ExactDecimal(100 + sequence)!)) }
        guard case .filled(let unpinned) = live.submit(order("d"), quoteSequence: 3) else {
            Issue.record("fills")
            return
        }
        #expect(unpinned.price == latest.price, "outside a paced replay every order fills at the latest quote")
    }
}
