import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import RouterCore

/// A new order's request goes to Binance while routerd's record of it syncs, its parameters (in the body) only once
/// routerd grants it (`SendPermission`, `WithheldBody`; docs/venues/binance.md, "An order prepared while its record syncs").
/// The fake Binance is the witness: it cannot act on a request whose body has not come.
@Suite("Binance: an order's request under way before its permission, its parameters only after", .serialized)
struct BinanceWithheldOrderTests {
    static func orderRequests(_ fake: FakeBinance, _ clientOrderId: String) async throws -> [[String: Any]] {
        try await fake.requests().filter {
            ($0["path"] as? String) == "/api/v3/order" && ($0["method"] as? String) == "POST"
                && (($0["params"] as? [String: Any])?["newClientOrderId"] as? String) == clientOrderId
        }
    }

    @Test("granted: the head went first, the parameters in the body once granted, and the order fills")
    func granted() async throws {
        // Held for 1 s, within half its timestamp's window (5 s) and half its deadline (6 s).
        try await BinanceVenueTests.withVenue(configure: { $0.orderTimeoutMs = 6_000 }) { venue, fake in
            let permission = SendPermission()
            let placing = Task { try await venue.place(BinanceVenueTests.order("bb-withheld"), sendingOnce: permission) }
            try await Task.sleep(for: .seconds(1))
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-withheld") == 0, "nothing at Binance before the permission")
            #expect(try await Self.orderRequests(fake, "bb-withheld").isEmpty, "no request Binance could read")
            permission.grant()
            let report = try await placing.value
            #expect(report.status == .filled)
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-withheld") == 1)
            let request = try #require(try await Self.orderRequests(fake, "bb-withheld").first)
            #expect(request["formBody"] as? Bool == true, "the parameters came in the body")
            let waited = try #require((request["bodyAfterHeadMs"] as? NSNumber)?.doubleValue)
            #expect(waited >= 500, "the head was at Binance while the permission was awaited (\(waited) ms)")
        }
    }

    @Test("granted after half its deadline (a disk that stalled): the prepared request ends unsent, and the order is sent afresh, once")
    func grantedTooLate() async throws {
        // orderTimeoutMs 1,500: a grant after 750 ms finds its prepared request too old to send.
        try await BinanceVenueTests.withVenue { venue, fake in
            let permission = SendPermission()
            let placing = Task { try await venue.place(BinanceVenueTests.order("bb-late"), sendingOnce: permission) }
            try await Task.sleep(for: .milliseconds(1_200))
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-late") == 0)
            permission.grant()
            #expect(try await placing.value.status == .filled)
            #expect(try await BinanceVenueTests.executions(fake, "bb-late") == 1)
            let requests = try await Self.orderRequests(fake, "bb-late")
            #expect(requests.count == 1, "one request carried the order")
            #expect(requests.first?["formBody"] as? Bool == false, "sent afresh as a plain signed request")
        }
    }

    /// A refused order's `place`: not sent, for that reason.
    static func expectRefused(_ placing: Task<VenueOrderReport, any Error>) async throws {
        do {
            _ = try await placing.value
            Issue.record("a refused order was placed")
        } catch VenueError.unavailable(let reason) {
            #expect(reason == SendPermission.refusedReason)
        }
    }

    /// An order placed with a permission not yet decided, once the fake has answered its head alone (503).
    static func answeredOnHead(_ venue: BinanceVenue, _ fake: FakeBinance, _ clientOrderId: String,
                               status: Int = 503) async throws -> (SendPermission, Task<VenueOrderReport, any Error>) {
        _ = try await fake.control("behaviour", ["name": "order_answered_on_head", "count": 1, "status": status])
        let permission = SendPermission()
        let placing = Task { try await venue.place(BinanceVenueTests.order(clientOrderId), sendingOnce: permission) }
        try await waitFor("the fake's answer to the head", timeout: .seconds(10)) {
            (try? await fake.requests().contains { $0["answeredOnHead"] as? Bool == true }) ?? false
        }
        return (permission, placing)
    }

    @Test("answered on its head alone (a 503 before the body came): Binance had no parameters, so once granted the order is sent afresh, once")
    func answeredOnHead() async throws {
        try await BinanceVenueTests.withVenue(configure: { $0.orderTimeoutMs = 6_000 }) { venue, fake in
            let (permission, placing) = try await Self.answeredOnHead(venue, fake, "bb-on-head")
            permission.grant()
            #expect(try await placing.value.status == .filled)
            #expect(try await BinanceVenueTests.executions(fake, "bb-on-head") == 1)
            #expect(try await Self.orderRequests(fake, "bb-on-head").count == 1)
        }
    }

    @Test("answered on its head alone and then refused: not sent, and nothing at Binance")
    func answeredOnHeadThenRefused() async throws {
        try await BinanceVenueTests.withVenue(configure: { $0.orderTimeoutMs = 6_000 }) { venue, fake in
            let (permission, placing) = try await Self.answeredOnHead(venue, fake, "bb-on-head-refused")
            permission.refuse()
            try await Self.expectRefused(placing)
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-on-head-refused") == 0)
        }
    }

    @Test("answered 429 on its head alone: the back-off is kept, and the granted order is held back by the gate, not sent")
    func rateLimitedOnHead() async throws {
        try await BinanceVenueTests.withVenue(configure: { $0.orderTimeoutMs = 6_000 }) { venue, fake in
            let (permission, placing) = try await Self.answeredOnHead(venue, fake, "bb-on-head-429", status: 429)
            permission.grant()
            do {
                _ = try await placing.value
                Issue.record("an order was sent into Binance's back-off")
            } catch VenueError.unavailable(let reason) {
                // The back-off, or the ban the fake starts when a stream reconnects into it (Binance's limits are per IP).
                #expect(reason.contains("by Binance (HTTP 429)") || reason.contains("by Binance (HTTP 418)"), "held back: \(reason)")
            }
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-on-head-429") == 0)
            #expect(try await Self.orderRequests(fake, "bb-on-head-429").isEmpty)
        }
    }

    @Test("refused: Binance never gets the parameters, the order is not sent, and the next order goes out as usual")
    func refused() async throws {
        try await BinanceVenueTests.withVenue { venue, fake in
            let permission = SendPermission()
            let placing = Task { try await venue.place(BinanceVenueTests.order("bb-refused"), sendingOnce: permission) }
            try await Task.sleep(for: .milliseconds(300))
            permission.refuse()
            try await Self.expectRefused(placing)
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-refused") == 0)
            #expect(try await Self.orderRequests(fake, "bb-refused").isEmpty, "no request Binance could read")
            #expect(try await venue.place(BinanceVenueTests.order("bb-next")).status == .filled)
            #expect(try await BinanceVenueTests.orderCount(fake, "bb-refused") == 0)
        }
    }

    @Test("an order placed with its record already on disk sends its parameters at once")
    func alreadyGranted() async throws {
        try await BinanceVenueTests.withVenue { venue, fake in
            #expect(try await venue.place(BinanceVenueTests.order("bb-at-once")).status == .filled)
            let request = try #require(try await Self.orderRequests(fake, "bb-at-once").first)
            #expect(request["formBody"] as? Bool == true)
            #expect(try await BinanceVenueTests.executions(fake, "bb-at-once") == 1)
        }
    }
}
