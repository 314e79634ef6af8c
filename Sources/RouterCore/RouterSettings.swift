import BagbotDomain
import BagbotRuntime

/// The `router:` section of `bagbot.yaml`: trading mode, the replay feed, the paper venue, symbol routes.
/// Read by routerd only.
public struct RouterSettings: ConfigSection {
    public static let key = "router"
    public static let openMaps: Set<String> = ["symbols", "paper.symbols", "paper.starting_balances", "account.pegs"]
    public static let numbersAllowedAsStrings: Set<String> = [
        "replay.speed", "paper.starting_balances.*", "paper.fee_bps", "paper.slippage_bps", "paper.symbols.*",
    ]

    /// "paper" (the default): every order goes to the paper venue. "live": each symbol goes to its asset class's
    /// live venue (crypto → Binance), which must be enabled; routerd says so loudly at start.
    public var mode = "paper"
    public var replay = Replay()
    public var paper = Paper()
    public var reconcile = Reconcile()
    public var account = Account()
    public var binance = BinanceSettings()
    /// Explicit symbol routes (symbol → asset class); the built-in patterns cover the rest.
    public var symbols: [String: String] = [:]

    public init() {}

    public struct Replay: Codable, Sendable, Equatable {
        /// Files to replay; empty means every known file in `data_dir`, or a synthetic feed if there is none.
        public var files: [String] = []
        public var dataDir = ""
        /// Replay speed: a multiple of real time ("1", "10") or "max".
        public var speed = "1"
        /// Start again from the top when a file ends (timestamps keep increasing).
        public var loop = true
        /// Spread applied to trade prints, which carry no bid/ask (basis points of the price).
        public var tradeSpreadBps = 1.0
        /// The largest file the feed takes, in MiB: it keeps every tick of its files in memory (about five times a
        /// trade file's size), so a larger one is refused with its reason at start rather than taking the machine's
        /// memory (`bagbot backtest` streams files of any size).
        public var maxFileMb = 128

        public init() {}
    }

    /// How orders of unknown outcome are settled with their venue.
    public struct Reconcile: Codable, Sendable, Equatable {
        /// Between two lookups of an order its venue did not know.
        public var lookupIntervalMs = 2_000
        /// Lookups that find nothing before an order sent to the venue is recorded as rejected.
        public var maxMisses = 5
        /// After an order is given up as not found, it is looked up again this many seconds after (ascending): a
        /// venue that answered "status unknown" (Binance -1007) may still execute it.
        public var lateLookupSeconds: [Int] = [60, 600]

        public init() {}

        public var settings: ReconciliationSettings {
            ReconciliationSettings(lookupInterval: .milliseconds(lookupIntervalMs), maxMisses: maxMisses,
                                   lateLookups: lateLookupSeconds.map { .seconds($0) })
        }
    }

    /// How `router.account` adds the venues up.
    public struct Account: Codable, Sendable, Equatable {
        /// The currency every figure of the combined account is in.
        public var currency = "USD"
        /// Assets counted one for one as another (a stablecoin as its currency); without a peg USDT is valued
        /// only through a USDT/USD price, which the paper feed does not have.
        public var pegs = ["USDT": "USD", "USDC": "USD"]
        /// In live mode, a price routerd received longer ago than this values nothing: what it would value counts as
        /// unvalued, so mindsetd takes no equity and allows no entry, rather than judge the day on a price frozen by a
        /// market stream that is down (or banned). 0: no limit. Not on paper: the replayed ticks are the paper
        /// venue's whole market, and may be sparse.
        public var maxPriceAgeSeconds = 30.0
        /// How often routerd writes the account's equity to `equity_samples` for the equity curves (10–3600 s); kept
        /// 35 days.
        public var equitySampleSeconds = 60.0

        public init() {}
    }

    /// `account.max_price_age_seconds` in live mode.
    public var priceAgeLimit: Duration? {
        let seconds = account.maxPriceAgeSeconds
        return mode == "live" && seconds > 0 ? .milliseconds(Int64((seconds * 1_000).rounded())) : nil
    }

    public struct Paper: Codable, Sendable, Equatable {
        /// What the paper account holds at its start, per asset: the quote currencies of the symbols it trades
        /// (USDT for crypto pairs, USD for stocks and the major currency pairs).
        public var startingBalances: [String: ExactDecimal] = ["USD": 100_000, "USDT": 100_000]
        /// The fee per side in basis points for every symbol that does not set its own (`symbols.<SYMBOL>.fee_bps`);
        /// unset, each symbol's asset class gives it (`PaperSymbolSettings.defaultFeeBps`: crypto 10, as Binance).
        public var feeBps: ExactDecimal?
        public var slippageBps: ExactDecimal = 1
        /// A market order is rejected (`stale_market_data`) when its symbol's last tick was received longer ago.
        public var maxTickAgeSeconds = 10.0
        /// Ticks of its symbol by which a filled market order's final status follows its fills (0: with them), as
        /// at a live venue whose status reports lag its executions: rehearses an entry not yet settled whose fills
        /// are in (arsenald's stop must still act on them).
        public var statusLagTicks = 0
        /// The symbols paper trades, with their rules; an order for any other symbol is refused. Replaced as
        /// a whole when set.
        public var symbols = PaperSymbolSettings.defaults

        public init() {}

        /// As synthesized, but `fee_bps` written as null when unset: the configuration learns its keys from the
        /// defaults' encoding, and an absent key would be refused as unknown.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(startingBalances, forKey: .startingBalances)
            try container.encode(feeBps, forKey: .feeBps)
            try container.encode(slippageBps, forKey: .slippageBps)
            try container.encode(maxTickAgeSeconds, forKey: .maxTickAgeSeconds)
            try container.encode(statusLagTicks, forKey: .statusLagTicks)
            try container.encode(symbols, forKey: .symbols)
        }
    }

    /// The paper venue's symbols on margin (`PaperSymbolSettings.margin`, else by asset class).
    public var paperMarginSymbols: Set<String> {
        let map = SymbolMap(config: self)
        return Set(paper.symbols.filter { $0.value.isMargin(map.assetClass(of: $0.key)) }.keys)
    }

    /// The paper venue's rules per symbol, each with its fee.
    public var paperRules: [SymbolRules] {
        let margin = paperMarginSymbols
        let map = SymbolMap(config: self)
        return paper.symbols.map { symbol, settings in
            settings.rules(for: symbol, margin: margin.contains(symbol), feeBps: paperFeeBps(symbol, settings, map))
        }
    }

    /// A paper symbol's fee per side in basis points: its own, else `paper.fee_bps`, else its asset class's.
    func paperFeeBps(_ symbol: String, _ settings: PaperSymbolSettings, _ map: SymbolMap) -> ExactDecimal {
        settings.feeBps ?? paper.feeBps ?? PaperSymbolSettings.defaultFeeBps(map.assetClass(of: symbol))
    }

    public func validate(_ check: ConfigCheck) throws {
        switch mode {
        case "paper":
            break
        case "live":
            // Live needs a live venue: no order may fall through to the paper venue while the trader thinks it is real.
            guard binance.enabled else {
                throw check.fail("mode", "live trading needs a live venue: enable router.binance (the only live venue in this build)")
            }
        default:
            throw check.fail("mode", "must be paper or live, got '\(mode.prefix(20))'")
        }
        if !(0...86_400).contains(account.maxPriceAgeSeconds) {
            throw check.fail("account.max_price_age_seconds", "must be 0 (no limit)…86400")
        }
        // Each sample values the account, which may ask a live venue (Binance's account, weight 20, while its user
        // stream is down) inside the exclusive section orders need: not more often than every 10 s.
        if !(10...3_600).contains(account.equitySampleSeconds) {
            throw check.fail("account.equity_sample_seconds", "must be 10…3600")
        }
                try binance.validate(check, prefix: "binance")
        guard ReplaySpeed(replay.speed) != nil else {
            throw check.fail("replay.speed", "must be a positive number or \"max\"")
        }
        try check.nonNegative(replay.tradeSpreadBps, "replay.trade_spread_bps")
        guard (1...65_536).contains(replay.maxFileMb) else { throw check.fail("replay.max_file_mb", "must be 1…65536") }
        guard paper.startingBalances.values.contains(where: \.isPositive) else {
            throw check.fail("paper.starting_balances", "give at least one asset a positive balance (e.g. USD: 100000)")
        }
        for (asset, amount) in paper.startingBalances {
            guard RequestRules.isAssetName(asset) else { throw check.fail("paper.starting_balances.\(asset.prefix(40))", RequestRules.assetNameRule) }
            try check.nonNegative(amount, "paper.starting_balances.\(asset)")
        }
        guard RequestRules.isAssetName(account.currency) else { throw check.fail("account.currency", RequestRules.assetNameRule) }
        for (asset, target) in account.pegs {
            guard RequestRules.isAssetName(asset), RequestRules.isAssetName(target) else {
                throw check.fail("account.pegs.\(asset.prefix(40))", RequestRules.assetNameRule)
            }
        }
        try check.positive(paper.maxTickAgeSeconds, "paper.max_tick_age_seconds")
        guard (0...10_000).contains(paper.statusLagTicks) else { throw check.fail("paper.status_lag_ticks", "must be 0…10000") }
        if paper.statusLagTicks > 0 && ReplaySpeed(replay.speed) == .max {
            // A paced replay settles each tick's orders before the next: a status that waits for later ticks
            // would stall it (and make its runs differ).
            throw check.fail("paper.status_lag_ticks", "must be 0 with replay speed max")
        }
        guard (10...600_000).contains(reconcile.lookupIntervalMs) else {
            throw check.fail("reconcile.lookup_interval_ms", "must be 10…600000")
        }
        guard (1...1_000).contains(reconcile.maxMisses) else { throw check.fail("reconcile.max_misses", "must be 1…1000") }
        let late = reconcile.lateLookupSeconds
        guard late.count <= 10, late.allSatisfy({ (1...86_400).contains($0) }), zip(late, late.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw check.fail("reconcile.late_lookup_seconds", "must be at most 10 ascending numbers of seconds, each 1…86400, got \(late)")
        }
        // Above 10 % a fee or slippage is a typo, and at 100 % a sell's price would reach zero: no exit could fill.
        var rates = [(paper.slippageBps, "paper.slippage_bps")]
        if let fee = paper.feeBps { rates.append((fee, "paper.fee_bps")) }
        for (symbol, settings) in paper.symbols.sorted(by: { $0.key < $1.key }) {
            if let fee = settings.feeBps { rates.append((fee, "paper.symbols.\(symbol.prefix(40)).fee_bps")) }
        }
        for (value, key) in rates {
            try check.nonNegative(value, key)
            guard value <= 1_000 else { throw check.fail(key, "must be at most 1000 (10 %), got \(value)") }
        }
        for (symbol, settings) in paper.symbols {
            guard (try? RequestRules.checkedSymbol(symbol)) == symbol else {
                throw check.fail("paper.symbols.\(symbol.prefix(40))", "a symbol must be 1–32 characters of upper-case ASCII letters, digits and . / _ -")
            }
            if let problem = settings.rules(for: symbol).inconsistency {
                throw check.fail("paper.symbols.\(symbol)", problem)
            }
        }
        for (symbol, assetClass) in symbols {
            // The same rule routerd applies to every order's symbol: a route no order could use is a mistake.
            guard (try? RequestRules.checkedSymbol(symbol)) != nil else {
                throw check.fail("symbols.\(symbol.prefix(40))", "a symbol must be 1–32 characters of ASCII letters, digits and . / _ -")
            }
            guard AssetClass(rawValue: assetClass) != nil else {
                throw check.fail("symbols.\(symbol)", "must be crypto, forex or stocks")
            }
        }
    }
}
