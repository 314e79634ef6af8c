import Foundation
import BagbotDomain

/// Which market a symbol belongs to and which venue trades it. Explicit entries win; otherwise the
/// symbol's shape decides (BTCUSDT → crypto, EURUSD → forex, AAPL → stocks).
public struct SymbolMap: Sendable {
    public var overrides: [String: AssetClass]
    public var paperTrading: Bool

    static let cryptoQuotes = ["USDT", "USDC", "BUSD", "FDUSD", "BTC", "ETH", "USD"]
    static let currencies: Set<String> = ["EUR", "USD", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK",
                                          "PLN", "HUF", "CZK", "SGD", "HKD", "MXN", "ZAR", "TRY", "CNH", "XAU", "XAG"]

    public init(overrides: [String: AssetClass] = [:], paperTrading: Bool) {
        self.overrides = overrides
        self.paperTrading = paperTrading
    }

    public init(config: RouterSettings) {
        var overrides: [String: AssetClass] = [:]
        for (symbol, name) in config.symbols {
            if let assetClass = AssetClass(rawValue: name) { overrides[symbol.uppercased()] = assetClass }
        }
        self.init(overrides: overrides, paperTrading: config.mode == "paper")
    }

    public func assetClass(of symbol: String) -> AssetClass? {
        let symbol = symbol.uppercased()
        if let explicit = overrides[symbol] { return explicit }
        guard !symbol.isEmpty, symbol.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        if symbol.count == 6, Self.currencies.contains(String(symbol.prefix(3))), Self.currencies.contains(String(symbol.suffix(3))) {
            return .forex
        }
        // A quote currency alone (USDT) is not a market; a crypto pair needs a base of two or more characters.
        if Self.cryptoQuotes.contains(symbol) { return nil }
        if Self.cryptoQuotes.contains(where: { symbol.hasSuffix($0) && symbol.count >= $0.count + 2 }) {
            return .crypto
        }
        if (1...5).contains(symbol.count), symbol.allSatisfy(\.isLetter) { return .stocks }
        return nil
    }

    /// The venue that would trade `symbol` live, by asset class.
    public static func liveVenue(for assetClass: AssetClass) -> Venue {
        switch assetClass {
        case .crypto: return .binance
        case .forex: return .mt5
        case .stocks: return .alpaca
        }
    }

    /// Where an order for `symbol` goes now: the paper exchange in paper mode, else the live venue.
    public func venue(for symbol: String) -> Venue? {
        guard let assetClass = assetClass(of: symbol) else { return nil }
        return paperTrading ? .paper : Self.liveVenue(for: assetClass)
    }
}
