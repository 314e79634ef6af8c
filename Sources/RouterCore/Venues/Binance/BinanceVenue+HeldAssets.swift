import BagbotDomain

/// Prices of the held assets no configured symbol trades (`BinanceHeldAssetPrices`): what the account's valuation
/// needs beside the routed symbols' ticks.
extension BinanceVenue {
    /// The markets of the held assets no configured symbol trades, at prices read within `markMaxAge`.
    public func valuationPairs() async -> [CurrencyConverter.Pair] {
        let rules = Array(rules.values)
        return heldAssetPrices.pairs(of: BinanceHeldAssetPrices.unrouted(held: heldAssets, rules: rules), rules: rules, maxAge: markMaxAge)
    }

    /// Reads Binance's trading symbols when they were never read or are an hour old (`GET /api/v3/exchangeInfo` of the
    /// trading symbols without their permission sets: weight 20, a few megabytes, decoded off the venue), then the
    /// status of every candidate market of the held assets (`exchangeInfo?symbols=`, weight 20: a halted market's last
    /// price is frozen) and the last prices of those that trade (`GET /api/v3/ticker/price?symbols=`, weight 4). Nothing
    /// is read while the account holds only what the configured symbols trade, nor during a ban or back-off. A failed
    /// read keeps what was read before: its prices age out, and the assets they valued are shown unvalued. One refresh
    /// at a time: a call while one runs waits for it, then refreshes.
    func refreshHeldAssetPrices() async {
        let previous = heldAssetRefresh
        let refresh = Task {
            await previous?.value
            await refreshHeldAssetPricesNow()
        }
        heldAssetRefresh = refresh
        await refresh.value
    }

    private func refreshHeldAssetPricesNow() async {
        defer { heldAssetPriceReads += 1 }
        let rules = Array(rules.values)
        let assets = BinanceHeldAssetPrices.unrouted(held: heldAssets, rules: rules)
        heldAssetPrices.keepPrices(of: Set(assets.flatMap { heldAssetPrices.candidates(of: $0, rules: rules) }.map(\.symbol)))
        guard !assets.isEmpty, await rest.blockedReason() == nil else { return }
        if heldAssetPrices.needsList() {
            do {
                let body = try await read("/api/v3/exchangeInfo", [("symbolStatus", "TRADING"), ("showPermissionSets", "false")],
                                          weight: 20, signed: false)
                heldAssetPrices.list(try await Task.detached { try Self.tradingMarkets(body) }.value)
            } catch {
                heldAssetPrices.listFailed()
                logger.warning("Binance's symbols could not be read to price the assets held that no configured symbol trades; tried again in 5 minutes",
                               metadata: ["assets": "\(assets)", "error": "\(error)"])
                guard heldAssetPrices.hasList else { return }
            }
        }
        reportUnpriceable(assets, rules: rules)
        let candidates = Set(assets.flatMap { heldAssetPrices.candidates(of: $0, rules: rules) }.map(\.symbol)).sorted()
        guard !candidates.isEmpty else { return }
        var symbols: [String] = []
        do {
            let body = try await read("/api/v3/exchangeInfo", [("symbols", Self.jsonList(candidates))], weight: 20, signed: false)
            let trading = Set(try await Task.detached { try Self.tradingMarkets(body) }.value.map(\.symbol))
            heldAssetPrices.statuses(trading: trading)
            symbols = candidates.filter(trading.contains)
            guard !symbols.isEmpty else { return }
            let prices = try await read("/api/v3/ticker/price", [("symbols", Self.jsonList(symbols))], weight: 4, signed: false)
            struct Ticker: Decodable {
                var symbol: String
                var price: ExactDecimal
            }
            for ticker in try BinanceReports.decode([Ticker].self, from: prices, what: "GET /api/v3/ticker/price")
            where ticker.price.isPositive && symbols.contains(ticker.symbol) {
                heldAssetPrices.priced(ticker.symbol, ticker.price)
            }
        } catch {
            // -1121 "Invalid symbol.": one of them was delisted since the list was read.
            if case BinanceRESTClient.Failure.answered(.rejected(code: -1121, _)) = error { heldAssetPrices.forgetList() }
            logger.warning("the prices of the assets held that no configured symbol trades could not be read; tried again later", metadata: [
                "symbols": "\(symbols.isEmpty ? candidates : symbols)", "error": "\(error)",
            ])
        }
    }

    /// Takes the assets the account holds now; one no configured symbol trades that was not held before (BNB bought,
    /// or taken as a commission) has the prices read at once rather than at the next refresh.
    func hold(_ balances: [AssetBalance]) {
        let before = heldAssets
        heldAssets = Set(balances.filter { !($0.free.isZero && $0.locked.isZero) }.map(\.asset))
        let newlyHeld = BinanceHeldAssetPrices.unrouted(held: heldAssets.subtracting(before), rules: Array(rules.values))
        if !newlyHeld.isEmpty, heldAssetPricing != nil { Task { await refreshHeldAssetPrices() } }
    }

    private func reportUnpriceable(_ assets: [String], rules: [SymbolRules]) {
        let unpriceable = assets.filter { heldAssetPrices.candidates(of: $0, rules: rules).isEmpty }
        guard unpriceable != reportedUnpriceable else { return }
        if !unpriceable.isEmpty {
            logger.warning("the account holds assets Binance lists no trading market for against the configured symbols' assets: they cannot be valued, so mindsetd takes no equity", metadata: [
                "assets": "\(unpriceable)",
            ])
        }
        reportedUnpriceable = unpriceable
    }

    /// Symbols as Binance takes a list of them in a parameter: `["BTCUSDT","BNBUSDT"]`.
    static func jsonList(_ symbols: [String]) -> String {
        "[" + symbols.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }

    /// Binance's symbols that trade now, by their two assets (only what is needed is decoded: not the filters).
    nonisolated static func tradingMarkets(_ body: [UInt8]) throws -> [BinanceHeldAssetPrices.Market] {
        struct Listing: Decodable {
            struct Symbol: Decodable {
                var symbol: String
                var status: String
                var baseAsset: String
                var quoteAsset: String
            }
            var symbols: [Symbol]
        }
        return try BinanceReports.decode(Listing.self, from: body, what: "GET /api/v3/exchangeInfo").symbols
            .filter { $0.status == "TRADING" }
            .map { BinanceHeldAssetPrices.Market(symbol: $0.symbol, baseAsset: $0.baseAsset, quoteAsset: $0.quoteAsset) }
    }

    /// Makes the held assets' prices read so far `by` older (tests: what a stopped refresh leads to).
    func ageHeldAssetPrices(by duration: Duration) {
        heldAssetPrices.age(by: duration)
    }
}
