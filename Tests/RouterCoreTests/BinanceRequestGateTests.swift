import Foundation
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("Binance answers and the request gate")
struct BinanceRequestGateTests {
    private func body(_ code: Int, _ message: String) -> [UInt8] { Array("{\"code\":\(code),\"msg\":\"\(message)\"}".utf8) }

    @Test("5xx, -1006, -1007 and no answer are unknown (look it up, never resend); 4xx are refusals with Binance's code")
    func outcomes() {
        #expect(BinanceOutcome.of(status: 200, body: [], retryAfter: nil) == .success)
        #expect(BinanceOutcome.of(status: nil, body: [], retryAfter: nil).isUnknown)
        #expect(BinanceOutcome.of(status: 503, body: Array("<html>".utf8), retryAfter: nil).isUnknown)
        #expect(BinanceOutcome.of(status: 500, body: body(-2010, "Account has insufficient balance for requested action."), retryAfter: nil).isUnknown)
        #expect(BinanceOutcome.of(status: 408, body: body(-1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."), retryAfter: nil).isUnknown)
        #expect(BinanceOutcome.of(status: 400, body: body(-1006, "An unexpected response was received from the message bus. Execution status unknown."), retryAfter: nil).isUnknown)
        #expect(BinanceOutcome.of(status: 400, body: body(-2010, "Duplicate order sent."), retryAfter: nil) == .duplicate("Duplicate order sent."))
        #expect(BinanceOutcome.of(status: 400, body: body(-2010, "Account has insufficient balance for requested action."), retryAfter: nil)
                == .rejected(code: -2010, message: "Account has insufficient balance for requested action."))
        #expect(BinanceOutcome.of(status: 400, body: body(-2013, "Order does not exist."), retryAfter: nil) == .noSuchOrder("Order does not exist."))
        #expect(BinanceOutcome.of(status: 400, body: body(-2011, "Unknown order sent."), retryAfter: nil) == .noSuchOrder("Unknown order sent."))
        #expect(BinanceOutcome.of(status: 400, body: body(-1021, "Timestamp for this request is outside of the recvWindow."), retryAfter: nil)
                == .clockSkew("Timestamp for this request is outside of the recvWindow."))
        #expect(BinanceOutcome.of(status: 400, body: body(-1013, "Filter failure: LOT_SIZE"), retryAfter: nil)
                == .filterFailure(code: -1013, message: "Filter failure: LOT_SIZE"))
        #expect(BinanceOutcome.of(status: 429, body: body(-1003, "Too much request weight used"), retryAfter: "30")
                == .rateLimited(retryAfterSeconds: 30, message: "Too much request weight used"))
        #expect(BinanceOutcome.of(status: 418, body: body(-1003, "Way too much request weight used; IP banned until 1700000000000."), retryAfter: "7200")
                == .banned(retryAfterSeconds: 7_200, message: "Way too much request weight used; IP banned until 1700000000000."))
        #expect(BinanceOutcome.of(status: 403, body: Array("<html>WAF</html>".utf8), retryAfter: nil)
                == .rateLimited(retryAfterSeconds: nil, message: "HTTP 403 from Binance's web application firewall: HTTP 403"))
        #expect(BinanceOutcome.of(status: 429, body: [], retryAfter: "99999999999") == .rateLimited(retryAfterSeconds: 259_200, message: "HTTP 429"),
                "a Retry-After past Binance's longest ban is capped at 3 days")
        #expect(BinanceOutcome.of(status: 400, body: [], retryAfter: nil) == .rejected(code: 0, message: "HTTP 400 without Binance's error body"))
    }

    @Test("after a 418 not one request may leave until Retry-After has passed; then it may")
    func ban() {
        var gate = BinanceRequestGate()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(gate.admit(weight: 1, isOrder: false, at: start) == .now)
        gate.record(.banned(retryAfterSeconds: 120, message: "banned"), at: start)
        for second in [0.0, 1, 60, 119.9] {
            guard case .refused(let until, let reason) = gate.admit(weight: 1, isOrder: false, at: start.addingTimeInterval(second)) else {
                Issue.record("a request left \(second) s into a ban")
                continue
            }
            #expect(until == start.addingTimeInterval(120) && reason.contains("418"))
        }
        #expect(gate.blockedReason(at: start.addingTimeInterval(10))?.hasPrefix("banned by Binance (HTTP 418) until") == true)
        #expect(gate.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(120)) == .now)
        #expect(gate.blockedReason(at: start.addingTimeInterval(120)) == nil)
    }

    @Test("a -1015 (the account's order count, a 429 without Retry-After) holds new orders 10 s, longer when it comes again; reads and cancels go on")
    func orderCountFull() throws {
        let body = Array(#"{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}"#.utf8)
        let outcome = BinanceOutcome.of(status: 429, body: body, retryAfter: nil)
        #expect(outcome == .tooManyOrders("Binance -1015: Too many new orders; current limit is 50 orders per 10 SECOND."))
        #expect(BinanceOutcome.newOrderWasNotProcessed(code: -1015))
        let start = Date(timeIntervalSince1970: 1_800_000_003)   // 3 s into a 10-second window
        var gate = BinanceRequestGate()
        gate.record(outcome, at: start)
        #expect(gate.blockedReason(at: start) == nil, "no back-off: the IP is not what is limited")
        #expect(gate.admit(weight: 1, isOrder: false, at: start) == .now, "a read or a cancel goes")
        guard case .refused(let until, let reason) = gate.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(6.9)) else {
            Issue.record("an order left while Binance's order count was full")
            return
        }
        #expect(until == Date(timeIntervalSince1970: 1_800_000_010), "the 10-second window's end, before 10 s are up")
        #expect(reason.contains("unfilled order count") && gate.ordersHeldReason(at: start) == reason, "\(reason)")
        #expect(gate.admit(weight: 1, isOrder: true, at: Date(timeIntervalSince1970: 1_800_000_010)) == .now, "the next window")

        // The day's limit named: 10 s, not until midnight (Binance lowers the count as orders fill); again and again
        // within a minute of each hold's end: 20, 40 … up to 10 minutes.
        var daily = BinanceRequestGate()
        var now = start
        for expected in [10.0, 20, 40, 80, 160, 320, 600, 600] {
            daily.record(.tooManyOrders("Binance -1015: Too many new orders; current limit is 160000 orders per 1 DAY."), at: now)
            guard case .refused(let end, _) = daily.admit(weight: 1, isOrder: true, at: now) else {
                Issue.record("an order left right after a -1015")
                return
            }
            #expect(end.timeIntervalSince(now) == expected)
            #expect(daily.admit(weight: 1, isOrder: true, at: end) == .now)
            now = end.addingTimeInterval(1)
        }
        // A while later, a -1015 starts again from 10 s.
        daily.record(.tooManyOrders("Binance -1015: Too many new orders; current limit is 160000 orders per 1 DAY."), at: now.addingTimeInterval(3_600))
        if case .refused(let end, _) = daily.admit(weight: 1, isOrder: true, at: now.addingTimeInterval(3_600)) {
            #expect(end.timeIntervalSince(now.addingTimeInterval(3_600)) == 10)
        } else {
            Issue.record("an order left right after a -1015")
        }
        // A limit routerd does not have, a message that names none, a gate that knows no order limit: held all the same.
        for message in ["Binance -1015: Too many new orders; current limit is 5 orders per 1 HOUR.", "Binance -1015: Too many new orders."] {
            var other = BinanceRequestGate(limits: [.init(.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 6_000)])
            other.record(.tooManyOrders(message), at: start)
            if case .refused = other.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(9.9)) {} else { Issue.record("not held: \(message)") }
        }
        #expect(BinanceRequestGate.orderLimit(in: "current limit is 50 orders per 10 SECOND.")! == (10, "SECOND"))
    }

    @Test("a -1015's hold restored from the block file holds as the one saved: its end, its reason, and its length for the next doubling")
    func orderHoldRestored() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var before = BinanceRequestGate()
        for offset in [0.0, 11, 32] {   // 10, 20, then 40 s: each within a minute of the last hold's end
            before.record(.tooManyOrders("Binance -1015: Too many new orders; current limit is 160000 orders per 1 DAY."),
                          at: start.addingTimeInterval(offset))
        }
        let saved = try #require(before.orderHold)
        #expect(saved.seconds == 40 && saved.until == start.addingTimeInterval(72))
        var after = BinanceRequestGate()
        after.restoreOrderHold(until: saved.until, reason: saved.reason, seconds: saved.seconds, at: start.addingTimeInterval(33))
        #expect(after.ordersHeldReason(at: start.addingTimeInterval(71)) == before.ordersHeldReason(at: start.addingTimeInterval(71)))
        if case .refused = after.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(71)) {} else { Issue.record("an order left during a restored hold") }
        #expect(after.admit(weight: 1, isOrder: false, at: start.addingTimeInterval(71)) == .now, "reads and cancels go on")
        #expect(after.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(72)) == .now, "the hold ends when it was to")
        after.record(.tooManyOrders("Binance -1015: Too many new orders; current limit is 160000 orders per 1 DAY."), at: start.addingTimeInterval(80))
        #expect(after.orderHold?.seconds == 80, "a -1015 soon after the restored hold doubles it, as without the restart")
        // A saved hold no longer than a fresh one is kept; a shorter one saved does not shorten the one held.
        after.restoreOrderHold(until: start.addingTimeInterval(90), reason: "older", seconds: 10, at: start.addingTimeInterval(80))
        #expect(after.orderHold?.until == start.addingTimeInterval(160) && after.orderHold?.seconds == 80)
        // Out-of-range lengths from a hand-edited file are brought within 10 s … 10 min.
        // A hold saved for far longer than one can be (a hand edit, a file from elsewhere) ends 10 minutes from now at
        // the latest: it must not hold every new order, exits included, for good.
        var edited = BinanceRequestGate()
        edited.restoreOrderHold(until: Date(timeIntervalSince1970: 3e10), reason: nil, seconds: 1e12, at: start)
        #expect(edited.orderHold?.seconds == 600)
        #expect(edited.orderHold?.until == start.addingTimeInterval(600))
        #expect(edited.admit(weight: 1, isOrder: true, at: start.addingTimeInterval(600)) == .now)
    }

    @Test("the block file read field by field: one it cannot read (a hand edit) loses itself, never the ban saved beside it")
    func blockFileFieldByField() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("binance-ban.json")
        let banEnd = Date(timeIntervalSinceReferenceDate: 900_000_000)
        try Data(#"{"bannedUntil":900000000,"ordersHeldUntil":"soon","orderHoldSeconds":"forty","ordersHeldReason":7}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let record = try #require(BinanceRESTClient.BlockRecord.read(path))
        #expect(record.bannedUntil == banEnd)
        #expect(record.ordersHeldUntil == nil && record.orderHoldSeconds == nil && record.ordersHeldReason == nil)
        // A file of an older build (no hold) reads as before.
        try Data(#"{"backOffUntil":900000000}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try #require(BinanceRESTClient.BlockRecord.read(path)).backOffUntil == banEnd)
    }

    @Test("a 429 without Retry-After stops requests for a minute; a later, shorter one does not shorten it")
    func backOff() {
        var gate = BinanceRequestGate()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        gate.record(.rateLimited(retryAfterSeconds: nil, message: "429"), at: start)
        gate.record(.rateLimited(retryAfterSeconds: 5, message: "429"), at: start.addingTimeInterval(1))
        if case .refused = gate.admit(weight: 1, isOrder: false, at: start.addingTimeInterval(59)) {} else { Issue.record("sent during a 429's back-off") }
        #expect(gate.admit(weight: 1, isOrder: false, at: start.addingTimeInterval(60)) == .now)
    }

    @Test("before the weight limit a read waits for the next minute, counting what was sent and what Binance reports")
    func weightThrottle() {
        var gate = BinanceRequestGate(limits: [.init(.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 100)], margin: 0.9)
        let minute = Date(timeIntervalSince1970: 1_800_000_040)   // 40 s into a minute
        for _ in 0..<8 { #expect(gate.admit(weight: 10, isOrder: false, at: minute) == .now) }
        #expect(gate.admit(weight: 10, isOrder: false, at: minute) == .now, "90 of 100: at the margin")
        #expect(gate.admit(weight: 1, isOrder: false, at: minute) == .wait(until: Date(timeIntervalSince1970: 1_800_000_060)))
        #expect(gate.admit(weight: 1, isOrder: false, at: Date(timeIntervalSince1970: 1_800_000_060)) == .now, "a new minute")
        // Binance says more was used (another client on the same IP): its count wins.
        gate.observe(headers: [("x-mbx-used-weight-1m", "95")], at: Date(timeIntervalSince1970: 1_800_000_061))
        #expect(gate.used(.requestWeight, interval: "MINUTE", intervalNum: 1, at: Date(timeIntervalSince1970: 1_800_000_061)) == 95)
        if case .wait = gate.admit(weight: 1, isOrder: false, at: Date(timeIntervalSince1970: 1_800_000_062)) {} else { Issue.record("sent past the margin") }
    }

    @Test("an order past the order count's margin is refused with the reason, not delayed; reads are not counted as orders")
    func orderCount() {
        var gate = BinanceRequestGate(limits: [.init(.orders, interval: "SECOND", intervalNum: 10, limit: 10)], margin: 0.9)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for _ in 0..<9 { #expect(gate.admit(weight: 1, isOrder: true, at: now) == .now) }
        #expect(gate.admit(weight: 1, isOrder: false, at: now) == .now, "a look-up is not an order")
        guard case .refused(let until, let reason) = gate.admit(weight: 1, isOrder: true, at: now) else {
            Issue.record("a tenth order in 10 s was let through at a 90 % margin")
            return
        }
        #expect(until == Date(timeIntervalSince1970: 1_800_000_010) && reason.contains("order limit"))
        gate.observe(headers: [("X-MBX-ORDER-COUNT-10S", "2")], at: now)
        #expect(gate.used(.orders, interval: "SECOND", intervalNum: 10, at: now) == 9, "our own count is higher: kept")
    }

    @Test("usage headers are recognised in any case, as upper-casing the whole name did, and nothing else is")
    func usageHeaderNames() {
        let names = ["X-MBX-USED-WEIGHT-1M", "x-mbx-used-weight-1m", "X-Mbx-Used-Weight-1m", "x-mbx-order-count-10s",
                     "X-MBX-ORDER-COUNT-1D", "X-MBX-USED-WEIGHT-", "X-MBX-USED-WEIGHT", "X-MBX-USED-WEIGHTS-1M", "Y-MBX-USED-WEIGHT-1M",
                     "x-mbx-used_weight-1m", "Content-Type", "", "X-MBX-ORDER-COUNT-10s ", "x-mbx-uSed-weight-1M"]
        for name in names {
            let upper = name.uppercased()
            for prefix in ["X-MBX-USED-WEIGHT-", "X-MBX-ORDER-COUNT-"] {
                let expected = upper.hasPrefix(prefix) && upper.count > prefix.count ? String(upper.dropFirst(prefix.count)) : nil
                #expect(BinanceRequestGate.suffix(of: name, after: prefix) == expected, "\(name) after \(prefix)")
            }
        }
        var gate = BinanceRequestGate(limits: [.init(.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 100)], margin: 0.9)
        let now = Date(timeIntervalSince1970: 1_800_000_001)
        gate.observe(headers: [("X-Mbx-Used-Weight-1m", "42"), ("x-mbx-used-weight-1s", "99")], at: now)
        #expect(gate.used(.requestWeight, interval: "MINUTE", intervalNum: 1, at: now) == 42)
    }

    @Test("exchangeInfo's rateLimits replace the defaults; RAW_REQUESTS and malformed ones are left out")
    func limitsFromExchangeInfo() throws {
        let json = """
            [{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
             {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},
             {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},
             {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000},
             {"rateLimitType":"REQUEST_WEIGHT","interval":"FORTNIGHT","intervalNum":1,"limit":5}]
            """
        let limits = try JSONDecoder().decode([BinanceRequestGate.Limit].self, from: Data(json.utf8))
        var gate = BinanceRequestGate()
        gate.setLimits(limits)
        #expect(gate.limits == BinanceRequestGate.defaultLimits)
    }

    @Test("exchangeInfo read again (hourly, after every -1013) keeps what was counted: a storm of rejections cannot run past the order limit")
    func limitsReadAgainKeepUsage() {
        var gate = BinanceRequestGate(limits: BinanceRequestGate.defaultLimits, margin: 0.9)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for _ in 0..<45 { #expect(gate.admit(weight: 1, isOrder: true, at: now) == .now) }
        gate.setLimits(BinanceRequestGate.defaultLimits)
        guard case .refused = gate.admit(weight: 1, isOrder: true, at: now) else {
            Issue.record("the 46th order in 10 s left after exchangeInfo was read again")
            return
        }
        #expect(gate.used(.requestWeight, interval: "MINUTE", intervalNum: 1, at: now) == 45)
        // A limit whose size changed is the same limit: its count carries over too; one that is new starts at nothing.
        gate.setLimits([.init(.orders, interval: "SECOND", intervalNum: 10, limit: 100), .init(.requestWeight, interval: "HOUR", intervalNum: 1, limit: 1_000)])
        #expect(gate.used(.orders, interval: "SECOND", intervalNum: 10, at: now) == 45)
        #expect(gate.used(.requestWeight, interval: "HOUR", intervalNum: 1, at: now) == 0)
    }

    @Test("a usage header past any number Binance could mean does not crash the gate: it reads as a full window")
    func hugeUsageHeader() {
        var gate = BinanceRequestGate()
        let now = Date(timeIntervalSince1970: 1_800_000_001)
        gate.observe(headers: [("X-MBX-USED-WEIGHT-1M", "9223372036854775807"), ("X-MBX-ORDER-COUNT-10S", "9223372036854775807")], at: now)
        #expect(gate.admit(weight: 1, isOrder: false, at: now) == .wait(until: Date(timeIntervalSince1970: 1_800_000_060)))
        guard case .refused = gate.admit(weight: 1, isOrder: true, at: now) else {
            Issue.record("an order left with the order count reported full")
            return
        }
        #expect(gate.admit(weight: 1, isOrder: false, at: Date(timeIntervalSince1970: 1_800_000_060)) == .now, "the next minute")
    }
}

extension BinanceOutcome {
    var isUnknown: Bool { if case .unknown = self { true } else { false } }
}
