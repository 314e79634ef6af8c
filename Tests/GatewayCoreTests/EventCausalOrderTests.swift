import Foundation
import Testing
@testable import GatewayCore

/// routerd's events of a trade against arsenald's decision for it, as they may cross on their two connections.
@Suite("Events in causal order")
struct EventCausalOrderTests {
    final class Stream: @unchecked Sendable {
        var events: [String] = []
        func publish(_ kind: StreamEventKind, _ json: Data) { events.append("\(kind.rawValue) \(String(decoding: json, as: UTF8.self))") }
    }

    static func json(_ text: String) -> Data { Data(text.utf8) }

    @Test("an order and its fill that overtake the decision wait for it, then follow it in their own order")
    func overtakingWaits() {
        let causal = EventCausalOrder()
        let stream = Stream()
        causal.tradeEvent(.order, clientOrderId: "bb-r1-7", json: Self.json("sent"), publish: stream.publish)
        causal.tradeEvent(.fill, clientOrderId: "bb-r1-7", json: Self.json("fill"), publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "bb-r1-7", json: Self.json("filled"), publish: stream.publish)
        #expect(stream.events.isEmpty)
        #expect(causal.heldCount == 3)
        causal.decision(requestId: "r1-7", json: Self.json("approved"), publish: stream.publish)
        #expect(stream.events == ["decision approved", "order sent", "fill fill", "order filled"])
        // Once decided, the request's later events pass at once.
        causal.tradeEvent(.order, clientOrderId: "bb-r1-7", json: Self.json("cancelled"), publish: stream.publish)
        #expect(stream.events.last == "order cancelled")
        #expect(causal.heldCount == 0)
    }

    @Test("the usual order — decision first — costs no wait; orders not placed by arsenald never wait")
    func noWait() {
        let causal = EventCausalOrder()
        let stream = Stream()
        causal.decision(requestId: "r2", json: Self.json("d"), publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "bb-r2", json: Self.json("o"), publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "flatten-9", json: Self.json("f"), publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "bb-", json: Self.json("odd"), publish: stream.publish)
        #expect(stream.events == ["decision d", "order o", "order f", "order odd"])
    }

    @Test("a decision that never comes holds nothing past maximumHold; the oldest held go first")
    func boundedHold() {
        let causal = EventCausalOrder(maximumHold: .milliseconds(500))
        let stream = Stream()
        let start = ContinuousClock.now
        causal.tradeEvent(.order, clientOrderId: "bb-a", json: Self.json("a"), now: start, publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "bb-b", json: Self.json("b"), now: start + .milliseconds(300), publish: stream.publish)
        causal.releaseOverdue(now: start + .milliseconds(499), publish: stream.publish)
        #expect(stream.events.isEmpty)
        causal.releaseOverdue(now: start + .milliseconds(500), publish: stream.publish)
        #expect(stream.events == ["order a"])
        causal.releaseOverdue(now: start + .seconds(2), publish: stream.publish)
        #expect(stream.events == ["order a", "order b"])
        // A decision arriving after its events were released streams alone.
        causal.decision(requestId: "a", json: Self.json("late"), publish: stream.publish)
        #expect(stream.events == ["order a", "order b", "decision late"])
    }

    @Test("it remembers a bounded number of decisions: past them, an old request's event waits its bound again")
    func boundedMemory() {
        let causal = EventCausalOrder(remembered: 2)
        let stream = Stream()
        for id in ["x", "y", "z"] { causal.decision(requestId: id, json: Self.json(id), publish: stream.publish) }
        causal.tradeEvent(.order, clientOrderId: "bb-z", json: Self.json("z"), publish: stream.publish)
        causal.tradeEvent(.order, clientOrderId: "bb-x", json: Self.json("x"), publish: stream.publish)
        #expect(stream.events.suffix(1) == ["order z"])
        #expect(causal.heldCount == 1)
    }
}
