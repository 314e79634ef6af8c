import Foundation

/// The one configuration file every daemon reads (`bagbot.yaml`). Every key has a default, so a file
/// names only what it changes; keys are snake_case in the file.
public struct BagbotConfig: Codable, Sendable, Equatable {
    public var paths = Paths()
    public var ipc = IPC()
    public var log = Log()
    public var gateway = Gateway()
    public var mindset = Mindset()
    public var arsenal = Arsenal()
    public var router = Router()

    public init() {}

    public struct Paths: Codable, Sendable, Equatable {
        /// Sockets live here (`/run/bagbot` under systemd).
        public var runDir = "/run/bagbot"
        /// `bagbot.db` and `state/*.json` live here (`/var/lib/bagbot` under systemd).
        public var stateDir = "/var/lib/bagbot"

        public var databasePath: String { stateDir + "/bagbot.db" }
        public var stateFilesDir: String { stateDir + "/state" }
        public func socket(for service: String) -> String { runDir + "/\(service).sock" }
    }

    public struct IPC: Codable, Sendable, Equatable {
        public var maxFrameBytes = 1 << 20
        /// Group allowed to connect besides root and the daemon's own user; empty for none.
        public var socketGroup = ""
        /// Octal permission bits, as a string so YAML does not read them as decimal.
        public var socketMode = "0660"
        public var requestTimeoutMs = 2_000
        /// How long a client's event loop polls for a reply before sleeping; 0 turns polling off.
        public var replyBusyPollUs = 200
        public var tickQueueCapacity = 1_024
        public var reliableQueueCapacity = 16_384
        /// Servers close a connection that has not completed hello this long after connecting.
        public var helloTimeoutMs = 5_000
        /// Servers close a connection whose started frame is not complete this long after its first bytes.
        public var frameTimeoutMs = 10_000
    }

    public struct Log: Codable, Sendable, Equatable {
        /// trace, debug, info, notice, warning, error, critical
        public var level = "info"
        /// auto (journald prefixes when started by systemd), journal, or plain
        public var format = "auto"
    }

    public struct Gateway: Codable, Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// File holding the first admin token; when the database has no admin token, its SHA-256 is stored.
        /// Under systemd this comes through `LoadCredential=` instead.
        public var bootstrapAdminTokenFile = ""
    }

    public struct Mindset: Codable, Sendable, Equatable {
        /// UTC time of the daily reset, "HH:MM".
        public var dailyResetUtc = "00:00"
        public var startOfDayEquity = 100_000.0
        /// Absolute daily loss limit in account currency.
        public var dailyLossLimit = 1_000.0
        /// Daily loss limit as a percentage of start-of-day equity; the tighter of the two applies.
        public var dailyLossLimitPercent = 2.0
        public var maxConsecutiveLosses = 5
        public var maxTradesPerDay = 500
        public var revengeCooldownSeconds = 300.0
        /// For this long after a loss, no new entry may be larger (in notional) than the losing trade.
        public var revengeWindowSeconds = 1_800.0
        public var confidentAfterWins = 3
        public var cautiousAfterLosses = 2
        public var tiltedAfterLosses = 3
        public var cautiousLossFraction = 0.5
        public var tiltedLossFraction = 0.8
        public var stateFactors = StateFactors()
    }

    public struct StateFactors: Codable, Sendable, Equatable {
        public var calm = 1.0
        public var confident = 1.0
        public var cautious = 0.5
        public var tilted = 0.25
    }

    public struct Arsenal: Codable, Sendable, Equatable {
        public var microTrend = MicroTrend()
    }

    public struct MicroTrend: Codable, Sendable, Equatable {
        public var enabled = true
        public var symbols = ["BTCUSDT", "EURUSD"]
        /// Base order size per symbol, before risk scaling.
        public var baseQuantity: [String: Double] = ["BTCUSDT": 0.01, "EURUSD": 10_000]
        public var momentumWindow = 50
        public var volatilityWindow = 100
        /// Momentum must beat this multiple of volatility (plus costs) to trade.
        public var thresholdMultiple = 1.5
        /// Skip markets whose per-tick volatility (relative) is below this: nothing moves.
        public var minVolatility = 0.000_001
        /// …or above this: chaos.
        public var maxVolatility = 0.01
        public var feeRate = 0.0001
        public var slippageRate = 0.0001
        public var stopLossPercent = 0.5
        public var orderCooldownMs = 100.0
        public var maxOrdersPerMinute = 20
        /// A reversal needs momentum this many times the entry threshold.
        public var reversalMultiple = 1.0
    }

    public struct Router: Codable, Sendable, Equatable {
        /// "paper" is the only mode this build trades in; live venues come with their connectors.
        public var mode = "paper"
        public var replay = Replay()
        public var paper = Paper()
        /// Explicit symbol routes (symbol → asset class); the built-in patterns cover the rest.
        public var symbols: [String: String] = [:]
    }

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
    }

    public struct Paper: Codable, Sendable, Equatable {
        public var startingCash = 100_000.0
        public var feeBps = 1.0
        public var slippageBps = 1.0
    }
}
