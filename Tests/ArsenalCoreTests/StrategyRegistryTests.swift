import Foundation
import Logging
import BagbotDomain
import BagbotIPC
import BagbotStorage
import BagbotTestSupport
import Testing
@testable import ArsenalCore

/// Choices saved somewhere a test controls, or not at all.
final class ChoicesSink: @unchecked Sendable {
    let saved = Locked<[StrategyChoices]>([])
    let failing = Locked(false)

    func save(_ choices: StrategyChoices) throws {
        if failing.get() { throw TestFailure("disk full") }
        saved.update { $0.append(choices) }
    }
}

@Suite("strategy registry")
struct StrategyRegistryTests {
    private func registry(_ settings: ArsenalSettings = ArsenalSettings(), sink: ChoicesSink = ChoicesSink()) -> TradeCoordinator {
        TradeCoordinator(strategies: StrategyCatalog.strategies(from: settings), mindset: FakeMindset(), router: FakeRouter(),
                         logger: quietLogger, saveChoices: { try sink.save($0) })
    }

    @Test("both strategies are listed with id, description, symbols, base quantities and their full schema")
    func listing() async throws {
        var settings = ArsenalSettings()
        settings.microTrend.tuning.momentumWindow = 30
        let coordinator = registry(settings)
        let listed = await coordinator.strategyInfo()
        #expect(listed.map(\.id) == ["micro_trend", "mean_reversion"])
        let micro = try #require(listed.first)
        #expect(micro.kind == "micro_trend_follower" && micro.enabled && !micro.description.isEmpty)
        #expect(micro.baseQuantity == ["BTCUSDT": 0.01, "EURUSD": 10_000])
        let names = micro.parameters.map(\.name)
        #expect(names == ["stop_loss_percent", "order_cooldown_ms", "max_orders_per_minute", "fee_rate", "slippage_rate",
                          "momentum_window", "volatility_window", "threshold_multiple", "min_volatility", "max_volatility", "reversal_multiple"])
        let window = try #require(micro.parameters.first { $0.name == "momentum_window" })
        #expect(window == StrategyParameterInfo(name: "momentum_window", type: .integer, value: 30, defaultValue: 50, minimum: 2,
                                                maximum: 100_000, description: window.description, source: .config))
        #expect(micro.parameters.first { $0.name == "stop_loss_percent" }?.value == 0.5)
        #expect(micro.parameters.first { $0.name == "stop_loss_percent" }?.source == .default)
        let reversion = try await coordinator.strategyInfo(id: "mean_reversion")
        #expect(!reversion.enabled)
        #expect(reversion.parameters.first { $0.name == "stop_loss_percent" }?.value == 1)
    }

    @Test("refused with the reason, changing nothing", arguments: [
        (["momentum_windw": JSONValue.number(5)], "momentum_windw: unknown parameter (known: stop_loss_percent"),
        (["momentum_window": .number(1)], "momentum_window: must be between 2 and 100000, got 1"),
        (["momentum_window": .number(10.5)], "momentum_window: must be a whole number"),
        (["momentum_window": .string("10")], "momentum_window: must be a number (integer), got a string"),
        (["stop_loss_percent": .number(0)], "stop_loss_percent: must be between 0.01 and 50.0"),
        (["min_volatility": .number(0.5)], "min_volatility: must be below max_volatility"),
        // All or none: the valid one is not applied either.
        (["momentum_window": .number(10), "threshold_multiple": .number(-1)], "threshold_multiple: must be between"),
        ([:], "parameters: name at least one parameter"),
    ])
    func refused(values: [String: JSONValue], reason: String) async throws {
        let sink = ChoicesSink()
        let coordinator = registry(sink: sink)
        let before = try await coordinator.strategyInfo(id: "micro_trend")
        let error = await #expect(throws: IPCError.self) { try await coordinator.setParameters(values, strategyId: "micro_trend") }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("micro_trend: \(reason)") == true, "\(error?.message ?? "")")
        #expect(try await coordinator.strategyInfo(id: "micro_trend") == before)
        #expect(sink.saved.get().isEmpty)
    }

    @Test("an unknown strategy is not found, naming those registered")
    func unknownStrategy() async throws {
        let coordinator = registry()
        let error = await #expect(throws: IPCError.self) { try await coordinator.setEnabled(true, strategyId: "grid") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("micro_trend, mean_reversion") == true)
    }

    @Test("a change is saved, then applies at once (to a flat symbol), marked as set at run time with what bagbot.yaml said")
    func changeApplies() async throws {
        let sink = ChoicesSink()
        let coordinator = registry(sink: sink)
        let info = try await coordinator.setParameters(["momentum_window": .number(10), "stop_loss_percent": .number(2)], strategyId: "micro_trend")
        #expect(info.parameters.first { $0.name == "momentum_window" }?.value == 10)
        #expect(info.parameters.first { $0.name == "momentum_window" }?.source == .runtime)
        #expect(sink.saved.get().last == StrategyChoices(strategies: [
            "micro_trend": StrategyChoice(parameters: ["momentum_window": 10, "stop_loss_percent": 2],
                                          configuredParameters: ["momentum_window": 50, "stop_loss_percent": 0.5]),
        ]))
        #expect(info.parameters.first { $0.name == "stop_loss_percent" }?.value == 2)
    }

    @Test("a change while holding keeps the logic that opened the position until it is flat; then the new logic starts with empty windows")
    func changeWaitsForFlat() throws {
        let strategy = MicroTrendStrategy(settings: microTrendSettings())
        let runner = strategy.runner
        let feeder = Feeder(runner)
        feeder.feed(quietMids())
        _ = try runner.onFill(fill(.buy, 0.01, at: 100.005))
        runner.restore(try runner.choice(setting: ["volatility_window": .number(200), "stop_loss_percent": .number(5)]))
        #expect(runner.position(of: "BTCUSDT")?.quantity == 0.01)
        #expect(runner.settings.basics.stopLossPercent == 5, "the stop's change applies at once")
        // The old windows are still full: a strong move against the long closes it within a few ticks.
        var path = TickPath(start: 100.005)
        path.returns([Double](repeating: -0.0004, count: 8))
        let exit = try #require(feeder.feed(Array(path.mids.dropFirst())).first?.signal)
        #expect(!exit.isEntry && exit.reason.hasPrefix("strong opposite move"))
        _ = try runner.onFill(fill(.sell, 0.01, at: exit.price))
        runner.orderEnded(symbol: "BTCUSDT", role: .exit)
        // Flat and idle: the new logic (volatility window 200) needs 200 returns before any entry.
        var trend = TickPath(start: try #require(path.mids.last))
        trend.alternating(0.002, 0.0005, count: 150)
        #expect(feeder.feed(Array(trend.mids.dropFirst())).isEmpty)
    }

    @Test("lowering max_orders_per_minute counts the orders already sent")
    func guardKeepsHistory() throws {
        var guardrail = OrderRateGuard(cooldown: 0, maxPerMinute: 20)
        let start = Date(timeIntervalSince1970: 1_000)
        for second in 0..<5 { guardrail.record(start.addingTimeInterval(Double(second))) }
        #expect(guardrail.allows(at: start.addingTimeInterval(10)))
        guardrail.reconfigure(cooldown: 0, maxPerMinute: 3)
        #expect(!guardrail.allows(at: start.addingTimeInterval(10)))
        // The third most recent order (at 2 s) leaves the minute at 62 s.
        #expect(!guardrail.allows(at: start.addingTimeInterval(61.9)))
        #expect(guardrail.allows(at: start.addingTimeInterval(62)))
    }

    @Test("disable stops entries but the strategy still exits its position; enable brings entries back; both saved")
    func disableThenEnable() async throws {
        let sink = ChoicesSink()
        let coordinator = registry(sink: sink)
        let disabled = try await coordinator.setEnabled(false, strategyId: "micro_trend")
        #expect(!disabled.enabled)
        #expect(sink.saved.get().last?.strategies["micro_trend"] == StrategyChoice(enabled: false, configuredEnabled: true))
        let enabled = try await coordinator.setEnabled(true, strategyId: "micro_trend")
        #expect(enabled.enabled)
        #expect(sink.saved.get().last?.strategies["micro_trend"] == StrategyChoice(enabled: true, configuredEnabled: true))
    }

    @Test("a disabled Micro Trend Follower closes its long on a strong opposite move (it used to wait for the stop)")
    func disabledMicroTrendExits() throws {
        let runner = StrategyRunner<MicroTrendFollower>(settings: microTrendSettings { $0.basics.enabled = false })
        let feeder = Feeder(runner)
        feeder.feed(quietMids())
        _ = try runner.onFill(fill(.buy, 0.01, at: 100.005))
        var path = TickPath(start: 100.005)
        path.returns([Double](repeating: -0.0004, count: 8))
        let signals = feeder.feed(Array(path.mids.dropFirst()))
        let exit = try #require(signals.first?.signal)
        #expect(exit.side == .sell && !exit.isEntry)
        #expect(exit.reason.hasPrefix("strong opposite move"), "\(exit.reason)")
    }

    @Test("an enable or a parameter change that cannot be saved is not made; a disable applies anyway and says it was not saved")
    func unsavedChoices() async throws {
        let sink = ChoicesSink()
        let coordinator = registry(sink: sink)
        _ = try await coordinator.setParameters(["momentum_window": .number(20)], strategyId: "micro_trend")
        sink.failing.set(true)
        let before = try await coordinator.strategyInfo(id: "micro_trend")
        let error = await #expect(throws: IPCError.self) {
            try await coordinator.setParameters(["momentum_window": .number(30), "reversal_multiple": .number(2)], strategyId: "micro_trend")
        }
        #expect(error?.code == .unavailable)
        #expect(try await coordinator.strategyInfo(id: "micro_trend") == before)
        await #expect(throws: IPCError.self) { try await coordinator.setEnabled(true, strategyId: "mean_reversion") }
        #expect(try await !coordinator.strategyInfo(id: "mean_reversion").enabled)

        let disable = await #expect(throws: IPCError.self) { try await coordinator.setEnabled(false, strategyId: "micro_trend") }
        #expect(disable?.message.contains("disabled for this run") == true, "\(disable?.message ?? "")")
        #expect(try await !coordinator.strategyInfo(id: "micro_trend").enabled)
    }

    @Test("bagbot.yaml edited after a run-time choice wins: the later decision holds")
    func yamlEditedSince() throws {
        let defaults = StrategyCatalog.strategies(from: ArsenalSettings())
        let tuned = try defaults[0].choice(setting: ["momentum_window": .number(20), "reversal_multiple": .number(2)])
        let microOn = defaults[0].choice(settingEnabled: true)
        let microOff = defaults[0].choice(settingEnabled: false)
        let reversionOn = defaults[1].choice(settingEnabled: true)

        // bagbot.yaml unchanged since: every choice holds.
        let same = StrategyCatalog.strategies(from: ArsenalSettings())
        #expect(same[1].restore(reversionOn).isEmpty && same[1].isEnabled)
        #expect(same[0].restore(microOff).isEmpty && !same[0].isEnabled)

        // momentum_window edited in bagbot.yaml since it was set at run time: bagbot.yaml's value; the rest holds.
        var edited = ArsenalSettings()
        edited.microTrend.tuning.momentumWindow = 30
        let afterEdit = StrategyCatalog.strategies(from: edited)
        #expect(afterEdit[0].restore(tuned).map(\.parameter) == ["momentum_window"])
        let micro = try #require((afterEdit[0] as? MicroTrendStrategy)?.runner)
        #expect(micro.settings.tuning.momentumWindow == 30 && micro.settings.tuning.reversalMultiple == 2)

        // enabled: false written in bagbot.yaml after a run-time enable stops the strategy.
        var off = ArsenalSettings()
        off.microTrend.basics.enabled = false
        let afterOff = StrategyCatalog.strategies(from: off)
        #expect(afterOff[0].restore(microOn).map(\.parameter) == ["enabled"])
        #expect(!afterOff[0].isEnabled)
    }

    @Test("choices for strategies this build does not run are carried through every save")
    func unknownStrategiesKept() throws {
        let directory = try TempDir()
        let file = StrategyChoicesFile(stateDirectory: directory.path)
        try file.save(StrategyChoices(strategies: ["grid": StrategyChoice(enabled: false, configuredEnabled: true)]))
        let strategies = StrategyCatalog.strategies(from: ArsenalSettings())
        let others = StrategyCatalog.restoreChoices(strategies, from: file, logger: quietLogger)
        #expect(others.strategies.keys.sorted() == ["grid"])
        try file.save(StrategyChoices(strategies: ["micro_trend": strategies[0].choice(settingEnabled: false)]).keeping(others))
        #expect(try file.load()?.strategies.keys.sorted() == ["grid", "micro_trend"])
    }

    @Test("choices survive a restart through arsenal_strategies.json")
    func choicesSurviveRestart() async throws {
        let directory = try TempDir()
        let file = StrategyChoicesFile(stateDirectory: directory.path)
        do {
            let coordinator = TradeCoordinator(strategies: StrategyCatalog.strategies(from: ArsenalSettings()), mindset: FakeMindset(), router: FakeRouter(), logger: quietLogger,
                                               saveChoices: { try file.save($0) })
            _ = try await coordinator.setEnabled(true, strategyId: "mean_reversion")
            _ = try await coordinator.setParameters(["entry_z": .number(3), "window": .number(50)], strategyId: "mean_reversion")
            _ = try await coordinator.setEnabled(false, strategyId: "micro_trend")
        }
        let restarted = StrategyCatalog.strategies(from: ArsenalSettings())
        StrategyCatalog.restoreChoices(restarted, from: file, logger: quietLogger)
        let reversion = try #require((restarted.last as? MeanReversionStrategy)?.runner)
        #expect(reversion.isEnabled)
        #expect(reversion.settings.tuning.entryZ == 3 && reversion.settings.tuning.window == 50)
        #expect(reversion.info().parameters.first { $0.name == "entry_z" }?.source == .runtime)
        #expect(restarted.first?.isEnabled == false)
    }

    @Test("a saved value today's schema refuses is dropped; the others are restored")
    func staleChoiceDropped() throws {
        let directory = try TempDir()
        let file = StrategyChoicesFile(stateDirectory: directory.path)
        try file.save(StrategyChoices(strategies: [
            "micro_trend": StrategyChoice(enabled: false, parameters: ["momentum_window": 1, "reversal_multiple": 2, "gone": 3]),
        ]))
        let strategies = StrategyCatalog.strategies(from: ArsenalSettings())
        let problems = strategies[0].restore(try #require(try file.load()?.strategies["micro_trend"]))
        #expect(problems.map(\.parameter) == ["gone", "momentum_window"])
        let runner = try #require((strategies[0] as? MicroTrendStrategy)?.runner)
        #expect(!runner.isEnabled)
        #expect(runner.settings.tuning.reversalMultiple == 2 && runner.settings.tuning.momentumWindow == 50)
        #expect(runner.choice == StrategyChoice(enabled: false, parameters: ["reversal_multiple": 2], configuredEnabled: true,
                                                configuredParameters: ["reversal_multiple": 1]))
    }

    @Test("a choices file that cannot even be replaced stays, and disables every strategy at every start")
    func unreadableAndUnwritable() throws {
        let directory = try TempDir()
        let file = StrategyChoicesFile(stateDirectory: directory.path)
        // A directory where the file should be: it cannot be read, and nothing can be renamed over it.
        try FileManager.default.createDirectory(atPath: file.path, withIntermediateDirectories: false)
        for _ in 0..<2 {
            let strategies = StrategyCatalog.strategies(from: ArsenalSettings())
            StrategyCatalog.restoreChoices(strategies, from: file, logger: quietLogger)
            #expect(strategies.allSatisfy { !$0.isEnabled })
        }
    }

    @Test("a saved value that contradicts bagbot.yaml is dropped alone; values saved together that agree are all restored")
    func contradictionDropsOneValue() throws {
        let strategies = StrategyCatalog.strategies(from: ArsenalSettings())
        let reversion = try #require((strategies[1] as? MeanReversionStrategy)?.runner)
        // entry_z 5 contradicts max_z 4 in bagbot.yaml: only it goes; the tighter stop stays.
        let problems = reversion.restore(StrategyChoice(parameters: ["entry_z": 5, "stop_loss_percent": 0.5]))
        #expect(problems.map(\.parameter) == ["entry_z"])
        #expect(reversion.settings.basics.stopLossPercent == 0.5 && reversion.settings.tuning.entryZ == 2)
        // Saved together (entry_z 6 with max_z 10) they agree, whatever order they are read in.
        #expect(reversion.restore(StrategyChoice(parameters: ["entry_z": 6, "max_z": 10])).isEmpty)
        #expect(reversion.settings.tuning.entryZ == 6 && reversion.settings.tuning.maxZ == 10)
    }

    @Test("an unreadable choices file starts every strategy disabled, and says so in a fresh file")
    func corruptChoicesDisableAll() throws {
        let directory = try TempDir()
        let file = StrategyChoicesFile(stateDirectory: directory.path)
        try Data("{\"strategies\": {\"micro_trend\": tru".utf8).write(to: URL(fileURLWithPath: file.path))
        let strategies = StrategyCatalog.strategies(from: ArsenalSettings())
        StrategyCatalog.restoreChoices(strategies, from: file, logger: quietLogger)
        #expect(strategies.allSatisfy { !$0.isEnabled })
        let saved = try #require(try file.load())
        #expect(saved.strategies["micro_trend"]?.enabled == false && saved.strategies["mean_reversion"]?.enabled == false)
        let aside = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".corrupt-") }
        #expect(aside.count == 1)
    }

    @Test("bagbot.yaml: the mean_reversion section is checked by the same schema", arguments: [
        ("arsenal:\n  mean_reversion:\n    exit_z: 3\n", "arsenal.mean_reversion.exit_z"),
        ("arsenal:\n  mean_reversion:\n    window: 1\n", "arsenal.mean_reversion.window"),
        ("arsenal:\n  mean_reversion:\n    stop_loss_percent: 0\n", "arsenal.mean_reversion.stop_loss_percent"),
        ("arsenal:\n  micro_trend:\n    max_orders_per_minute: 0\n", "arsenal.micro_trend.max_orders_per_minute"),
    ])
    func configChecked(yaml: String, key: String) throws {
        let error = try #require(configError(yaml: yaml, sections: [ArsenalSettings.self]))
        #expect(error.key == key, "\(error)")
    }

    @Test("bagbot.yaml: mean_reversion enabled with its own parameters")
    func configMeanReversion() throws {
        let config = try loadConfig(yaml: "arsenal:\n  mean_reversion:\n    enabled: true\n    entry_z: 2.5\n    symbols: [BTCUSDT]\n",
                                    sections: [ArsenalSettings.self])
        let settings = config[ArsenalSettings.self].meanReversion
        #expect(settings.basics.enabled && settings.tuning.entryZ == 2.5 && settings.basics.symbols == ["BTCUSDT"])
        #expect(settings.tuning.window == 100)
    }
}
