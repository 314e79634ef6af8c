import Foundation
import Synchronization
import BagbotTestSupport
import Testing
@testable import GatewayCore

/// `EventFanOut` without HTTP: numbering, the buffer and `Last-Event-ID`, each client's bounded queue, tick sampling.
@Suite("Event fan-out")
struct EventFanOutTests {
    static func settings(buffer: Int = 100, queue: Int = 50, ticks: Int = 1, maxClients: Int = 10) -> GatewaySettings.Events {
        var settings = GatewaySettings.Events()
        settings.bufferCapacity = buffer
        settings.clientQueueCapacity = queue
        settings.ticksPerSecond = ticks
        settings.maxClients = maxClients
        return settings
    }

    static func started(_ settings: GatewaySettings.Events = settings(), firstId: UInt64 = 1_000,
                        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) -> EventFanOut {
        let fanOut = EventFanOut(settings: settings, logger: quietLogger, firstId: firstId, now: now)
        fanOut.start()
        return fanOut
    }

    static func publish(_ fanOut: EventFanOut, _ count: Int, from first: Int = 1) {
        for n in first..<(first + count) { fanOut.publish(.order, json: Data(#"{"n":\#(n)}"#.utf8)) }
    }

    /// The events a subscription has queued now (replay first), ending the wait at the first pause.
    static func drain(_ subscription: EventSubscription, expecting count: Int) async -> [StreamEvent] {
        var events = subscription.replay
        var iterator = subscription.deliveries.makeAsyncIterator()
        while events.count < count, let delivery = await iterator.next() {
            if case .event(let event) = delivery { events.append(event) }
        }
        return events
    }

    static func n(_ event: StreamEvent) -> Int {
        let text = String(buffer: event.frame)
        let data = text.split(separator: "\n").first { $0.hasPrefix("data: ") }!.dropFirst(6)
        return (try! JSONSerialization.jsonObject(with: Data(data.utf8)) as! [String: Int])["n"]!
    }

    @Test("every client gets every event in order, ids strictly increasing by one, framed as id, event and one data line")
    func ordering() async throws {
        let fanOut = Self.started()
        let first = try fanOut.subscribe(lastEventId: nil) {}
        let second = try fanOut.subscribe(lastEventId: nil) {}
        // Published from several threads at once: still one sequence, the same for both.
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 { group.addTask { Self.publish(fanOut, 10, from: t * 10 + 1) } }
        }
        let a = await Self.drain(first, expecting: 40)
        let b = await Self.drain(second, expecting: 40)
        #expect(a.map(\.id) == Array(1_000..<1_040))
        #expect(b.map(\.id) == a.map(\.id))
        #expect(b.map(Self.n) == a.map(Self.n))
        #expect(Set(a.map(Self.n)) == Set(1...40))
        #expect(String(buffer: a[0].frame) == "id: 1000\nevent: order\ndata: {\"n\":\(Self.n(a[0]))}\n\n")
        #expect(first.replay.isEmpty && first.missed == nil)
    }

    @Test("Last-Event-ID inside the buffer: exactly the events after it, then the live ones, no gap and no duplicate")
    func resumeInsideTheBuffer() async throws {
        let fanOut = Self.started()
        Self.publish(fanOut, 30)
        let resumed = try fanOut.subscribe(lastEventId: 1_019) {}
        #expect(resumed.missed == nil)
        #expect(resumed.replay.map(\.id) == Array(1_020..<1_030))
        Self.publish(fanOut, 5, from: 31)
        let events = await Self.drain(resumed, expecting: 15)
        #expect(events.map(\.id) == Array(1_020..<1_035))
        #expect(events.map(Self.n) == Array(21...35))
        // The newest id: nothing missed, nothing replayed.
        let upToDate = try fanOut.subscribe(lastEventId: 1_034) {}
        #expect(upToDate.missed == nil && upToDate.replay.isEmpty)
    }

    @Test("an id older than the buffer, or not this gateway's, gets the missed notice and everything still buffered")
    func tooOld() throws {
        let fanOut = Self.started(Self.settings(buffer: 100))
        Self.publish(fanOut, 250)
        // Ids 1000…1249 were given out; 1150…1249 are buffered.
        let old = try fanOut.subscribe(lastEventId: 1_100) {}
        #expect(old.missed == EventSubscription.Missed(lastEventId: 1_100, firstAvailableId: 1_150))
        #expect(old.replay.map(\.id) == Array(1_150..<1_250))
        // The first id after the gap's edge is still a resume: 1149 was evicted, but nothing after it was.
        let edge = try fanOut.subscribe(lastEventId: 1_149) {}
        #expect(edge.missed == nil && edge.replay.count == 100)
        for id: UInt64 in [5_000, 1_250, 0] {
            let unknown = try fanOut.subscribe(lastEventId: id) {}
            #expect(unknown.missed?.lastEventId == id, "\(id)")
            #expect(unknown.replay.count == 100)
        }
    }

    @Test("a client that stops reading is cut off when its queue fills; a fast one keeps every event; publishing never waits")
    func slowClientCutOff() async throws {
        let fanOut = Self.started(Self.settings(buffer: 1_000, queue: 20))
        let cut = Mutex(0)
        let slow = try fanOut.subscribe(lastEventId: nil) { cut.withLock { $0 += 1 } }
        let fast = try fanOut.subscribe(lastEventId: nil) {}
        let taken = Mutex<[StreamEvent]>([])
        let reader = Task {
            for await delivery in fast.deliveries {
                if case .event(let event) = delivery { taken.withLock { $0.append(event) } }
            }
        }
        for batch in 0..<10 {
            // A batch fills the slow client's queue at once; the fast client takes each batch before the next comes.
            Self.publish(fanOut, 20, from: batch * 20 + 1)
            try await waitUntil("the fast client to take batch \(batch)") { taken.withLock { $0.count } == (batch + 1) * 20 }
        }
        let received = taken.withLock { $0 }
        #expect(received.map(\.id) == Array(1_000..<1_200), "the fast client got every event, in order")
        #expect(slow.end == .tooSlow)
        #expect(cut.withLock { $0 } == 1, "its connection was closed once")
        #expect(fanOut.cutOffTotal == 1)
        #expect(fanOut.clientCount == 1)
        // What it had queued before the cut is not delivered: the stream says it ended.
        var slowIterator = slow.deliveries.makeAsyncIterator()
        var queued = 0
        while await slowIterator.next() != nil { queued += 1 }
        #expect(queued == 20)
        #expect(fast.end == nil)
        reader.cancel()
    }

    @Test("at most ticksPerSecond ticks per symbol per second; symbols apart; 0 streams none")
    func tickSampling() {
        let clock = Mutex(ContinuousClock.now)
        let fanOut = Self.started(Self.settings(ticks: 2), now: { clock.withLock { $0 } })
        func step(_ duration: Duration) { clock.withLock { $0 += duration } }
        var admitted: [String] = []
        // 20 ticks 100 ms apart per symbol: 2 s.
        for _ in 0..<20 {
            for symbol in ["BTCUSDT", "ETHUSDT"] where fanOut.admitsTick(of: symbol) { admitted.append(symbol) }
            step(.milliseconds(100))
        }
        #expect(admitted.filter { $0 == "BTCUSDT" }.count == 4)
        #expect(admitted.filter { $0 == "ETHUSDT" }.count == 4)
        // A burst in one instant: one passes.
        let burst = (0..<50).filter { _ in fanOut.admitsTick(of: "SOLUSDT") }.count
        #expect(burst == 1)

        let none = Self.started(Self.settings(ticks: 0))
        #expect(!none.admitsTick(of: "BTCUSDT"))
    }

    @Test("daemon_down and daemon_up when a daemon's state changes, both when a reconnection went unseen, none otherwise")
    func daemonTransitions() async throws {
        let fanOut = Self.started()
        let client = try fanOut.subscribe(lastEventId: nil) {}
        let notice: (Bool) -> Data = { Data(#"{"up":\#($0)}"#.utf8) }
        fanOut.daemon("arsenald", up: false, json: notice)  // known, down: nothing to say
        fanOut.daemon("arsenald", up: true, json: notice)
        fanOut.daemon("arsenald", up: false, json: notice)
        fanOut.daemon("arsenald", up: false, json: notice)
        fanOut.daemon("arsenald", up: true, json: notice)
        fanOut.daemon("arsenald", up: true, json: notice)
        let events = await Self.drain(client, expecting: 5)
        #expect(events.map(\.kind) == [.daemonUp, .daemonDown, .daemonUp, .daemonDown, .daemonUp])
        let later = try fanOut.subscribe(lastEventId: nil) {}
        #expect(later.daemons == ["arsenald": "up"])
    }

    @Test("not running, or at max clients: 503 with its code; closing ends every stream as a shutdown")
    func refusalsAndShutdown() async throws {
        let idle = EventFanOut(settings: Self.settings(), logger: quietLogger)
        #expect(throws: APIError.self) { try idle.subscribe(lastEventId: nil) {} }
        do { _ = try idle.subscribe(lastEventId: nil) {} } catch let error as APIError { #expect(error.code == "events_unavailable") }

        let fanOut = Self.started(Self.settings(maxClients: 2))
        let one = try fanOut.subscribe(lastEventId: nil) {}
        var two: EventSubscription? = try fanOut.subscribe(lastEventId: nil) {}
        do { _ = try fanOut.subscribe(lastEventId: nil) {} } catch let error as APIError { #expect(error.code == "too_many_streams") }
        // A subscription released unused (a HEAD request's body is dropped) frees its place.
        two = nil
        #expect(two == nil && fanOut.clientCount == 1)
        _ = try fanOut.subscribe(lastEventId: nil) {}
        fanOut.close()
        #expect(one.end == .shutdown)
        var iterator = one.deliveries.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        do { _ = try fanOut.subscribe(lastEventId: nil) {} } catch let error as APIError { #expect(error.code == "events_unavailable") }
    }
}
