import Foundation

/// Range and format checks that types alone cannot express.
enum ConfigValidation {
    static func validate(_ config: BagbotConfig, file: String) throws {
        func fail(_ key: String, _ reason: String) -> ConfigError { ConfigError(file: file, key: key, reason: reason) }
        func positive(_ value: Double, _ key: String) throws {
            guard value.isFinite, value > 0 else { throw fail(key, "must be a positive number, got \(value)") }
        }
        func nonNegative(_ value: Double, _ key: String) throws {
            guard value.isFinite, value >= 0 else { throw fail(key, "must be zero or more, got \(value)") }
        }

        guard config.paths.runDir.hasPrefix("/") else { throw fail("paths.run_dir", "must be an absolute path") }
        guard config.paths.stateDir.hasPrefix("/") else { throw fail("paths.state_dir", "must be an absolute path") }
        guard (1_024...(64 << 20)).contains(config.ipc.maxFrameBytes) else {
            throw fail("ipc.max_frame_bytes", "must be between 1024 and 67108864")
        }
        guard config.ipc.socketMode.count >= 3, let mode = Int(config.ipc.socketMode, radix: 8), (0...0o777).contains(mode) else {
            throw fail("ipc.socket_mode", "must be octal permission bits such as \"0660\"")
        }
        guard config.ipc.requestTimeoutMs > 0 else { throw fail("ipc.request_timeout_ms", "must be positive") }
        guard (0...10_000).contains(config.ipc.replyBusyPollUs) else {
            throw fail("ipc.reply_busy_poll_us", "must be between 0 (off) and 10000")
        }
        guard config.ipc.tickQueueCapacity > 0 else { throw fail("ipc.tick_queue_capacity", "must be positive") }
        guard config.ipc.reliableQueueCapacity > 0 else { throw fail("ipc.reliable_queue_capacity", "must be positive") }
        guard (100...600_000).contains(config.ipc.helloTimeoutMs) else {
            throw fail("ipc.hello_timeout_ms", "must be between 100 and 600000")
        }
        guard (100...600_000).contains(config.ipc.frameTimeoutMs) else {
            throw fail("ipc.frame_timeout_ms", "must be between 100 and 600000")
        }
        guard LogSetup.level(named: config.log.level) != nil else {
            throw fail("log.level", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard ["auto", "journal", "plain"].contains(config.log.format) else {
            throw fail("log.format", "must be auto, journal or plain")
        }
        guard (1...65_535).contains(config.gateway.port) else { throw fail("gateway.port", "must be 1–65535") }

        let mindset = config.mindset
        guard DailyResetTime(mindset.dailyResetUtc) != nil else {
            throw fail("mindset.daily_reset_utc", "must be HH:MM in 24-hour UTC")
        }
        try positive(mindset.startOfDayEquity, "mindset.start_of_day_equity")
        try positive(mindset.dailyLossLimit, "mindset.daily_loss_limit")
        guard mindset.dailyLossLimitPercent > 0, mindset.dailyLossLimitPercent <= 100 else {
            throw fail("mindset.daily_loss_limit_percent", "must be in (0, 100]")
        }
        guard mindset.maxConsecutiveLosses > 0 else { throw fail("mindset.max_consecutive_losses", "must be positive") }
        guard mindset.maxTradesPerDay > 0 else { throw fail("mindset.max_trades_per_day", "must be positive") }
        try nonNegative(mindset.revengeCooldownSeconds, "mindset.revenge_cooldown_seconds")
        try nonNegative(mindset.revengeWindowSeconds, "mindset.revenge_window_seconds")
        guard mindset.tiltedAfterLosses >= mindset.cautiousAfterLosses else {
            throw fail("mindset.tilted_after_losses", "must be at least cautious_after_losses")
        }
        for (name, factor) in [("calm", mindset.stateFactors.calm), ("confident", mindset.stateFactors.confident),
                               ("cautious", mindset.stateFactors.cautious), ("tilted", mindset.stateFactors.tilted)] {
            guard factor >= 0, factor <= 2 else { throw fail("mindset.state_factors.\(name)", "must be between 0 and 2") }
        }

        let micro = config.arsenal.microTrend
        guard micro.momentumWindow >= 2 else { throw fail("arsenal.micro_trend.momentum_window", "must be at least 2") }
        guard micro.volatilityWindow >= 2 else { throw fail("arsenal.micro_trend.volatility_window", "must be at least 2") }
        try positive(micro.thresholdMultiple, "arsenal.micro_trend.threshold_multiple")
        try positive(micro.stopLossPercent, "arsenal.micro_trend.stop_loss_percent")
        try nonNegative(micro.feeRate, "arsenal.micro_trend.fee_rate")
        try nonNegative(micro.slippageRate, "arsenal.micro_trend.slippage_rate")
        try nonNegative(micro.orderCooldownMs, "arsenal.micro_trend.order_cooldown_ms")
        guard micro.maxOrdersPerMinute > 0 else { throw fail("arsenal.micro_trend.max_orders_per_minute", "must be positive") }
        guard micro.minVolatility < micro.maxVolatility else {
            throw fail("arsenal.micro_trend.min_volatility", "must be below max_volatility")
        }
        for symbol in micro.symbols {
            guard let quantity = micro.baseQuantity[symbol] else {
                throw fail("arsenal.micro_trend.base_quantity", "no base quantity for \(symbol)")
            }
            try positive(quantity, "arsenal.micro_trend.base_quantity.\(symbol)")
        }

        let router = config.router
        guard router.mode == "paper" else {
            throw fail("router.mode", "'\(router.mode)' is not available in this build; only paper trading is")
        }
        guard ReplaySpeed(router.replay.speed) != nil else {
            throw fail("router.replay.speed", "must be a positive number or \"max\"")
        }
        try nonNegative(router.replay.tradeSpreadBps, "router.replay.trade_spread_bps")
        try positive(router.paper.startingCash, "router.paper.starting_cash")
        try nonNegative(router.paper.feeBps, "router.paper.fee_bps")
        try nonNegative(router.paper.slippageBps, "router.paper.slippage_bps")
        for (symbol, assetClass) in router.symbols where AssetClass(rawValue: assetClass) == nil {
            throw fail("router.symbols.\(symbol)", "must be crypto, forex or stocks")
        }
    }
}

/// Replay speed: a multiple of real time, or as fast as the consumers take it.
public enum ReplaySpeed: Sendable, Equatable, CustomStringConvertible {
    case multiple(Double)
    case max

    public init?(_ text: String) {
        if text.lowercased() == "max" {
            self = .max
        } else if let value = Double(text.hasSuffix("x") ? String(text.dropLast()) : text), value.isFinite, value > 0 {
            self = .multiple(value)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .max: return "max"
        case .multiple(let value): return "\(value)x"
        }
    }
}

/// The daily reset moment, "HH:MM" UTC.
public struct DailyResetTime: Sendable, Equatable {
    public let hour: Int
    public let minute: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// The start of the trading day containing `date`: the latest reset moment at or before it.
    public func dayStart(containing date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let midnight = calendar.startOfDay(for: date)
        let reset = midnight.addingTimeInterval(TimeInterval(hour * 3_600 + minute * 60))
        return reset <= date ? reset : reset.addingTimeInterval(-86_400)
    }
}
