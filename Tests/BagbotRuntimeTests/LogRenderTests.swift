#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import BagbotDomain
import Testing
@testable import BagbotRuntime

/// The plain format's time and level are written by hand; they must read exactly as `String(format:)` and NSString's
/// padding wrote them.
@Suite("A plain log line's time and level")
struct LogRenderTests {
    static func formatted(seconds: Int, milliseconds: Int) -> String {
        var tm = tm()
        var seconds = seconds
        gmtime_r(&seconds, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, milliseconds)
    }

    @Test("times from 1970 to 9999 and beyond, at every edge of a field, read as String(format:) wrote them")
    func times() {
        var random = SplitMix64(seed: 0x106_71E)
        var cases: [(Int, Int)] = [(0, 0), (0, 999), (59, 1), (1_764_979_199, 500), (1_798_761_599, 999), (951_782_400, 7),
                                   (253_402_300_799, 999), (253_402_300_800, 0), (-1, 0), (-62_167_219_200, 0)]
        for _ in 0..<5_000 {
            cases.append((Int(random.next() % 253_402_300_800), Int(random.next() % 1_000)))
        }
        for (seconds, milliseconds) in cases {
            #expect(BagbotLogHandler.timestamp(seconds: seconds, milliseconds: milliseconds)
                    == Self.formatted(seconds: seconds, milliseconds: milliseconds), "\(seconds) s \(milliseconds) ms")
        }
    }

    @Test("every level's name is upper-cased and padded to eight characters")
    func levels() {
        for level in Logger.Level.allCases {
            #expect(BagbotLogHandler.paddedName(level) == level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0))
        }
        let line = BagbotLogHandler.render(level: .notice, label: "routerd", text: "started", format: .plain)
        #expect(line.hasSuffix("Z NOTICE   routerd: started\n") && line.utf8.count == 24 + " NOTICE   routerd: started\n".utf8.count, "\(line)")
    }

    @Test("a line carries the time of its call, however late it is written, and its metadata by key, quoted where needed")
    func lineOfACall() {
        let line = BagbotLogHandler.render(level: .info, label: "routerd.router", text: BagbotLogHandler.text("order filled", [
            "symbol": "BTCUSDT", "reason": "answer from binance", "client_order_id": "bb-1", "note": "a \"b\"",
        ]), format: .plain, at: timespec(tv_sec: 1_764_979_199, tv_nsec: 5_000_000))
        #expect(line == "2025-12-05T23:59:59.005Z INFO     routerd.router: order filled client_order_id=bb-1 note=\"a \\\"b\\\"\" reason=\"answer from binance\" symbol=BTCUSDT\n")
        #expect(BagbotLogHandler.text("started", [:]) == "started")
    }
}
