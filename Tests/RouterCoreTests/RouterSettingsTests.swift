import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("router: section of bagbot.yaml")
struct RouterSettingsTests {
    private let sections: [any ConfigSection.Type] = [RouterSettings.self]

    @Test("a replay speed written as a number is read as one; symbol routes keep their keys")
    func fileOverridesSomeKeys() throws {
        let config = try loadConfig(yaml: """
            router:
              replay:
                speed: 10
              symbols:
                ETHUSDT: crypto
            """, sections: sections)
        var expected = RouterSettings()
        expected.replay.speed = "10"
        expected.symbols = ["ETHUSDT": "crypto"]
        #expect(config[RouterSettings.self] == expected)
        #expect(try loadConfig(yaml: nil, overrides: ["router.replay.speed=max"], sections: sections)[RouterSettings.self].replay.speed == "max")
    }

    @Test("paper money settings are exact decimals, written as numbers or as strings")
    func paperMoneyIsExact() throws {
        let config = try loadConfig(yaml: """
            router:
              paper:
                starting_balances:
                  USD: 250000.10
                  BTC: "0.00100000"
                fee_bps: 7.5
                slippage_bps: "0.10"
            """, sections: sections)
        let paper = config[RouterSettings.self].paper
        #expect(paper.startingBalances["USD"] == ExactDecimal("250000.1"))
        #expect(paper.startingBalances["BTC"]?.description == "0.00100000")
        #expect(paper.startingBalances["USDT"] == nil, "the map is replaced as a whole")
        #expect(paper.feeBps == ExactDecimal("7.5"))
        #expect(paper.slippageBps.description == "0.10", "a string keeps its digits")
        let refused = try #require(configError(yaml: "router:\n  paper:\n    fee_bps: lots\n", sections: sections))
        #expect(refused.key == "router.paper.fee_bps")
        #expect(refused.reason.contains("not an exact decimal"))
    }

    @Test("a paper symbol trades on margin as set, else by its asset class: forex and stocks on margin, crypto spot")
    func marginByAssetClass() throws {
        let config = try loadConfig(yaml: """
            router:
              paper:
                symbols:
                  EURUSD: { base_asset: EUR, quote_asset: USD, tick_size: 0.00001, step_size: 1, min_quantity: 1, max_quantity: 1000000 }
                  BTCUSDT: { base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.00001, min_quantity: 0.00001, max_quantity: 9000 }
                  AAPL: { base_asset: AAPL, quote_asset: USD, tick_size: 0.01, step_size: 1, min_quantity: 1, max_quantity: 1000, margin: false }
            """, sections: sections)
        let router = config[RouterSettings.self]
        #expect(router.paperMarginSymbols == ["EURUSD"])
        #expect(router.paperRules.filter(\.shortSelling).map(\.symbol) == ["EURUSD"])
        #expect(RouterSettings().paperMarginSymbols == ["EURUSD", "GBPUSD", "USDJPY", "AAPL"], "the defaults")
    }

    @Test("paper fees: each symbol's own, else router.paper.fee_bps, else its asset class's live rate; all in the rules")
    func paperFees() throws {
        let defaults = Dictionary(RouterSettings().paperRules.map { ($0.symbol, $0.feeRate) }, uniquingKeysWith: { first, _ in first })
        #expect(defaults["BTCUSDT"] == ExactDecimal("0.001"), "crypto: Binance's 10 bp")
        #expect(defaults["EURUSD"] == ExactDecimal("0.000035"), "forex: an ECN's 0.35 bp")
        #expect(defaults["AAPL"] == ExactDecimal("0.00003"), "stocks: 0.3 bp of fees on sales")
        let config = try loadConfig(yaml: """
            router:
              paper:
                fee_bps: 2
                symbols:
                  BTCUSDT: { base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.00001, min_quantity: 0.00001, max_quantity: 9000, fee_bps: 7.5 }
                  EURUSD: { base_asset: EUR, quote_asset: USD, tick_size: 0.00001, step_size: 1, min_quantity: 1, max_quantity: 1000000 }
            """, sections: sections)
        let rules = Dictionary(config[RouterSettings.self].paperRules.map { ($0.symbol, $0.feeRate) }, uniquingKeysWith: { first, _ in first })
        #expect(rules["BTCUSDT"] == ExactDecimal("0.00075"), "the symbol's own")
        #expect(rules["EURUSD"] == ExactDecimal("0.0002"), "router.paper.fee_bps")
        let refused = try #require(configError(yaml: """
            router:
              paper:
                symbols:
                  BTCUSDT: { base_asset: BTC, quote_asset: USDT, tick_size: 0.01, step_size: 0.00001, min_quantity: 0.00001, max_quantity: 9000, fee_bps: 2000 }
            """, sections: sections))
        #expect(refused.key == "router.paper.symbols.BTCUSDT.fee_bps", "\(refused)")
        // A fee written with more decimals than a rate can carry is rounded up, never dropped (the symbol would fall
        // back to another, perhaps lower, fee).
        let fine = PaperSymbolSettings.defaults["BTCUSDT"]!.rules(for: "BTCUSDT", feeBps: ExactDecimal("7.500000000000001")!)
        #expect(fine.feeRate == ExactDecimal("0.000750000000000001")!)
    }

    @Test("numbers are read as written: no octal, no base 60, no rounding through a double")
    func numbersAsWritten() throws {
        let config = try loadConfig(yaml: """
            router:
              paper:
                starting_balances:
                  USD: 0100000
                slippage_bps: 0.123456789012345678
              replay:
                trade_spread_bps: 2.5
            """, sections: sections)
        let router = config[RouterSettings.self]
        #expect(router.paper.startingBalances["USD"] == 100_000, "not octal 32768")
        #expect(router.paper.slippageBps.description == "0.123456789012345678")
        #expect(router.replay.tradeSpreadBps == 2.5, "a floating-point setting still reads a number with a fraction")
    }

    @Test("values that parse but make no sense are refused", arguments: [
        ("router:\n  replay:\n    speed: fast\n", "router.replay.speed"),
        ("router:\n  replay:\n    speed: -2\n", "router.replay.speed"),
        ("router:\n  mode: live\n", "router.mode"),
        ("router:\n  symbols:\n    ETHUSDT: bonds\n", "router.symbols.ETHUSDT"),
        ("router:\n  symbols:\n    \"EURUSD#\": forex\n", "router.symbols.EURUSD#"),
        ("router:\n  paper:\n    starting_balances:\n      USD: 0\n", "router.paper.starting_balances"),
        ("router:\n  paper:\n    starting_balances:\n      USD: 10\n      usd: 5\n", "router.paper.starting_balances.usd"),
        ("router:\n  paper:\n    starting_balances:\n      USD: -5\n      USDT: 10\n", "router.paper.starting_balances.USD"),
        ("router:\n  paper:\n    starting_cash: 100\n", "router.paper.starting_cash"),
        ("router:\n  account:\n    currency: dollars\n", "router.account.currency"),
        ("router:\n  paper:\n    fee_bps: -1\n", "router.paper.fee_bps"),
        ("router:\n  paper:\n    slippage_bps: 10000\n", "router.paper.slippage_bps"),
        ("router:\n  paper:\n    fee_bps: 1001\n", "router.paper.fee_bps"),
        ("router:\n  paper:\n    fee_bps: 1:30\n", "router.paper.fee_bps"),
        ("router:\n  paper:\n    fee_bps: 0x10\n", "router.paper.fee_bps"),
        ("router:\n  replay:\n    trade_spread_bps: .inf\n", "router.replay.trade_spread_bps"),
        ("router:\n  replay:\n    loop: [1, 2]\n", "router.replay.loop"),
        ("router:\n  replay:\n    max_file_mb: 0\n", "router.replay.max_file_mb"),
        ("router:\n  replay:\n    max_file_mb: 65537\n", "router.replay.max_file_mb"),
        ("router:\n  replay:\n    speed: max\n  paper:\n    status_lag_ticks: 5\n", "router.paper.status_lag_ticks"),
        ("router:\n  paper:\n    status_lag_ticks: 10001\n", "router.paper.status_lag_ticks"),
        ("router:\n  account:\n    equity_sample_seconds: 5\n", "router.account.equity_sample_seconds"),
        ("router:\n  account:\n    equity_sample_seconds: 3601\n", "router.account.equity_sample_seconds"),
        ("router:\n  reconcile:\n    late_lookup_seconds: [600, 60]\n", "router.reconcile.late_lookup_seconds"),
        ("router:\n  reconcile:\n    late_lookup_seconds: [0]\n", "router.reconcile.late_lookup_seconds"),
        ("router:\n  reconcile:\n    late_lookup_seconds: [90000]\n", "router.reconcile.late_lookup_seconds"),
    ])
    func badValues(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: sections))
        #expect(error.key == key, "\(error)")
        #expect(!error.reason.isEmpty)
    }

    @Test("reconcile.late_lookup_seconds: 60 and 600 unless set; an empty list looks nothing up late")
    func lateLookups() throws {
        #expect(try loadConfig(yaml: "", sections: sections)[RouterSettings.self].reconcile.settings.lateLookups == [.seconds(60), .seconds(600)])
        let set = try loadConfig(yaml: "router:\n  reconcile:\n    late_lookup_seconds: [30, 300, 3600]\n", sections: sections)
        #expect(set[RouterSettings.self].reconcile.settings.lateLookups == [.seconds(30), .seconds(300), .seconds(3600)])
        let none = try loadConfig(yaml: "router:\n  reconcile:\n    late_lookup_seconds: []\n", sections: sections)
        #expect(none[RouterSettings.self].reconcile.settings.lateLookups.isEmpty)
    }

    @Test("account.max_price_age_seconds: read from the file, 0…86400, else refused naming the key")
    func maxPriceAge() throws {
        let config = try loadConfig(yaml: "router:\n  account:\n    max_price_age_seconds: 12\n", sections: sections)
        #expect(config[RouterSettings.self].account.maxPriceAgeSeconds == 12)
        let error = configError(yaml: "router:\n  account:\n    max_price_age_seconds: -1\n", sections: sections)
        #expect(error?.key == "router.account.max_price_age_seconds", "\(String(describing: error))")
    }
}
