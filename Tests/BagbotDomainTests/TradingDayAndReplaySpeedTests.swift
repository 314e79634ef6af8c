import BagbotDomain
import Foundation
import Testing

@Suite("DailyResetTime and ReplaySpeed parse what the config accepts")
struct TradingDayAndReplaySpeedTests {
    @Test("the reset time and replay speed parsers")
    func parsers() {
        #expect(DailyResetTime("00:00") == DailyResetTime("0:0"))
        #expect(DailyResetTime("23:59")?.hour == 23)
        #expect(DailyResetTime("24:00") == nil)
        #expect(DailyResetTime("12:60") == nil)
        #expect(DailyResetTime("1200") == nil)
        #expect(ReplaySpeed("max") == .max)
        #expect(ReplaySpeed("MAX") == .max)
        #expect(ReplaySpeed("10") == .multiple(10))
        #expect(ReplaySpeed("2.5x") == .multiple(2.5))
        #expect(ReplaySpeed("0") == nil)
        #expect(ReplaySpeed("fast") == nil)
        #expect(ReplaySpeed("inf") == nil)
    }
}
