import Foundation
import BagbotDomain

/// A closed trade's net P&L as the grades keep it: in its symbol's quote asset, with that asset's rate in the account
/// currency when the trade closed (or at the first account that priced the asset after it), so the grades weigh every
/// trade in one currency (`GradeReport.of(_:grading:drawdownScale:value:)`). Graded as they are, a 15,000-yen win
/// (100 dollars) would outweigh dollar losses 150 times. The rate is kept, not the converted figure, so a later part
/// of the trade (`RecentResults.update`) converts at the same rate when none is known then.
public struct TradeResult: Codable, Sendable, Equatable {
    /// In the symbol's quote asset; for a result saved before symbols were kept, as it was saved.
    public var pnl: ExactDecimal
    /// Nil: saved by a build before 2026-12-07 (bare decimals), whose quote asset is not known.
    public var symbol: String?
    /// The quote asset's rate in `currency`, once known.
    public var rate: ExactDecimal?
    public var currency: String?

    public init(_ pnl: ExactDecimal, symbol: String?, rate: ExactDecimal? = nil, currency: String? = nil) {
        self.pnl = pnl
        self.symbol = symbol
        self.rate = rate
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey { case pnl, symbol, rate, currency }

    /// Also a bare decimal, as results were saved before their symbol was kept.
    public init(from decoder: any Decoder) throws {
        if let bare = try? decoder.singleValueContainer().decode(ExactDecimal.self) {
            self.init(bare, symbol: nil)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode(ExactDecimal.self, forKey: .pnl), symbol: try container.decodeIfPresent(String.self, forKey: .symbol),
                  rate: try container.decodeIfPresent(ExactDecimal.self, forKey: .rate),
                  currency: try container.decodeIfPresent(String.self, forKey: .currency))
    }
}

/// The results of the latest closed trades, overall and per strategy, oldest first: what the grades are computed
/// from. Saved with the state; kept across resets (a grade is about the recent trades, not the day).
public struct RecentResults: Codable, Sendable, Equatable {
    public var overall: [TradeResult] = []
    public var byStrategy: [String: [TradeResult]] = [:]
    /// Results ever added, overall and per strategy (nil in a state saved before they were counted): a result's
    /// number is the count once it was added, so a later part of its trade can find it (`update`).
    public var added: Int?
    public var addedByStrategy: [String: Int]?

    public init() {}

    /// Adds a trade's result; returns its numbers (overall, in its strategy's list).
    @discardableResult
    mutating func add(_ result: TradeResult, strategy: String, keeping window: Int) -> (overall: Int, strategy: Int) {
        Self.append(result, to: &overall, keeping: window)
        Self.append(result, to: &byStrategy[strategy, default: []], keeping: window)
        // A count at its end (only a state file that says so reaches it) starts again: the numbers given before find
        // no result then, rather than the latest one.
        let numbers = (Self.next(after: added), Self.next(after: addedByStrategy?[strategy]))
        added = numbers.0
        var counts = addedByStrategy ?? [:]
        counts[strategy] = numbers.1
        addedByStrategy = counts
        return numbers
    }

    /// Changes the result added as `numbers`, where it is still kept.
    mutating func update(_ numbers: (overall: Int, strategy: Int), strategy: String, _ change: (inout TradeResult) -> Void) {
        Self.update(in: &overall, number: numbers.overall, of: added ?? 0, change)
        if var results = byStrategy[strategy] {
            Self.update(in: &results, number: numbers.strategy, of: addedByStrategy?[strategy] ?? 0, change)
            byStrategy[strategy] = results
        }
    }

    /// Gives each result without a rate in `currency` its quote asset's rate there, where `rate` knows it (`quoteAsset`:
    /// a symbol's); returns whether any got one.
    mutating func takeRates(in currency: String, quoteAsset: (String) -> String?, rate: (String) -> ExactDecimal?) -> Bool {
        func take(_ results: inout [TradeResult]) -> Bool {
            var changed = false
            for index in results.indices where results[index].rate == nil || results[index].currency != currency {
                guard let asset = results[index].symbol.flatMap(quoteAsset), let rate = rate(asset) else { continue }
                (results[index].rate, results[index].currency) = (rate, currency)
                changed = true
            }
            return changed
        }
        var changed = take(&overall)
        for strategy in byStrategy.keys {
            changed = take(&byStrategy[strategy, default: []]) || changed
        }
        return changed
    }

    private static func next(after count: Int?) -> Int {
        let count = count ?? 0
        return count < Int.max && count >= 0 ? count + 1 : 1
    }

    /// The result added as `number` of `added`, where it is still kept.
    private static func update(in results: inout [TradeResult], number: Int, of added: Int, _ change: (inout TradeResult) -> Void) {
        let (fromEnd, overflow) = added.subtractingReportingOverflow(number)
        guard !overflow, fromEnd >= 0, fromEnd < results.count else { return }
        change(&results[results.count - 1 - fromEnd])
    }

    private static func append(_ result: TradeResult, to results: inout [TradeResult], keeping window: Int) {
        results.append(result)
        let window = max(0, window)
        if results.count > window { results.removeFirst(results.count - window) }
    }
}
