import Logging
import BagbotDomain
import BagbotStorage

/// Every strategy arsenald can run, built from `bagbot.yaml`. Adding a strategy: write its `StrategyLogic`
/// file (with its `RegisteredStrategy` class), give it a section in `ArsenalSettings`, and list it here.
public enum StrategyCatalog {
    public static func strategies(from settings: ArsenalSettings) -> [ConfigurableStrategy] {
        [
            MicroTrendStrategy(settings: settings.microTrend),
            MeanReversionStrategy(settings: settings.meanReversion),
        ]
    }

    /// Takes back the choices an earlier run saved; returns those for strategies this build does not run (to be
    /// carried through every later save). A file that cannot be read leaves every strategy disabled (a
    /// strategy the trader switched off must not come back on by itself): that is saved over it (a copy of
    /// the unreadable file kept beside it), and if it cannot be, the unreadable file stays, so the next start
    /// disables them again.
    @discardableResult
    public static func restoreChoices(_ strategies: [ConfigurableStrategy], from file: StrategyChoicesFile, logger: Logger) -> StrategyChoices {
        let choices: StrategyChoices
        do {
            guard let saved = try file.load() else { return StrategyChoices() }
            choices = saved
        } catch {
            let aside = file.copyAside()
            logger.critical("strategy choices unreadable: every strategy starts disabled (exits and stops still act) until enabled again",
                            metadata: ["file": "\(file.path)", "copy": "\(aside ?? "none")", "error": "\(error)"])
            var disabled: [String: StrategyChoice] = [:]
            for strategy in strategies {
                let choice = StrategyChoice().disabling(under: strategy)
                strategy.restore(choice)
                disabled[strategy.id] = choice
            }
            do {
                try file.save(StrategyChoices(strategies: disabled))
            } catch {
                logger.critical("cannot save the disabled strategies; the unreadable file stays and disables them at every start",
                                metadata: ["error": "\(error)"])
            }
            return StrategyChoices()
        }
        for strategy in strategies {
            guard let choice = choices.strategies[strategy.id] else { continue }
            for problem in strategy.restore(choice) {
                logger.warning("saved strategy choice not restored", metadata: ["strategy": "\(strategy.id)", "problem": "\(problem)"])
            }
            logger.info("strategy choices restored", metadata: [
                "strategy": "\(strategy.id)", "enabled": "\(strategy.isEnabled)",
                "parameters": "\(strategy.choice.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))",
            ])
        }
        let unknown = choices.strategies.filter { id, _ in !strategies.contains { $0.id == id } }
        if !unknown.isEmpty {
            logger.warning("choices saved for strategies this build does not run; kept in the file",
                           metadata: ["strategies": "\(unknown.keys.sorted().joined(separator: ", "))"])
        }
        return StrategyChoices(strategies: unknown)
    }
}

extension StrategyChoice {
    /// Disabled, nothing else chosen, as `strategy`'s `bagbot.yaml` stands.
    func disabling(under strategy: ConfigurableStrategy) -> StrategyChoice {
        strategy.choice(settingEnabled: false).onlyEnabling
    }

    private var onlyEnabling: StrategyChoice {
        StrategyChoice(enabled: enabled, configuredEnabled: configuredEnabled)
    }
}
