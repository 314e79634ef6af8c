import Foundation
import Logging
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import MindsetCore

// Helpers for the mindset tests: UTC times from ISO text, proposals and closed trades, rules built from the
// real configuration defaults, and a private temporary directory per test.



/// "2024-03-01T10:00:00Z" (optionally with fractional seconds) → Date. Fails loudly on a typo.
func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { preconditionFailure("bad test date \(text)") }
    return date
}

/// Rules from the shipped defaults, adjusted by `change`. The times of these tests are fixed days of 2024, so
/// the check of times against the wall clock is left out unless `clockSkew` is given.
func makeRules(clockSkew: TimeInterval? = nil, _ change: (inout MindsetSettings) -> Void = { _ in }) -> MindsetRules {
    var config = MindsetSettings()
    change(&config)
    var rules = MindsetRules(config)
    rules.maxClockSkew = clockSkew
    return rules
}

func proposal(at time: Date, quantity: ExactDecimal = 1, price: ExactDecimal = 100, isEntry: Bool = true,
              side: Side = .buy, symbol: String = "BTCUSDT") -> TradeProposal {
    TradeProposal(strategyId: "micro_trend", symbol: symbol, side: side, quantity: quantity, price: price, time: time,
                  strength: 1.5, confidence: 0.5, isEntry: isEntry, requestId: "test-\(time.timeIntervalSince1970)")
}

/// A closed trade whose notional is `quantity × entry`.
func trade(pnl: ExactDecimal, at time: Date, quantity: ExactDecimal = 1, entry: ExactDecimal = 100, id: String? = nil,
           symbol: String = "BTCUSDT") -> ClosedTrade {
    let exit = try! entry + pnl.divided(by: quantity, scale: 8, rounding: .halfEven)
    return ClosedTrade(strategyId: "micro_trend", symbol: symbol, side: .buy, quantity: quantity, entryPrice: entry,
                       exitPrice: exit, pnl: pnl, closedAt: time, requestId: nil, tradeId: id)
}


func readDailyMetrics(_ path: String) throws -> [DailySummary] {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode([DailySummary].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}
