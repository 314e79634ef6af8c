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

    /// Takes back the choices an earlier run saved. A file that cannot be read leaves every strategy disabled
    /// (a strategy the trader switched off must not come back on by itself) and saves that, so it holds
    /// across the next restarts too, until the trader enables them again.
    public static func restoreChoices(_ strategies: [ConfigurableStrategy], from file: StrategyChoicesFile, logger: Logger) {
        let choices: StrategyChoices
        do {
            guard let saved = try file.load() else { return }
            choices = saved
        } catch {
            logger.critical("strategy choices unreadable: every strategy starts disabled (exits and stops still act) until enabled again",
                            metadata: ["file": "\(file.path)", "error": "\(error)"])
            for strategy in strategies { strategy.setEnabled(false) }
            do {
                try file.save(StrategyChoices(strategies: Dictionary(strategies.map { ($0.id, $0.choice) }, uniquingKeysWith: { first, _ in first })))
            } catch {
                logger.critical("cannot save the disabled strategies either", metadata: ["error": "\(error)"])
            }
            return
        }
        for strategy in strategies {
            guard let choice = choices.strategies[strategy.id] else { continue }
            for problem in strategy.restore(choice) {
                logger.error("saved strategy parameter not restored", metadata: ["strategy": "\(strategy.id)", "problem": "\(problem)"])
            }
            logger.info("strategy choices restored", metadata: [
                "strategy": "\(strategy.id)", "enabled": "\(strategy.isEnabled)",
                "parameters": "\(strategy.choice.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))",
            ])
        }
        let unknown = Set(choices.strategies.keys).subtracting(strategies.map(\.id))
        if !unknown.isEmpty {
            logger.warning("choices saved for strategies no longer registered", metadata: ["strategies": "\(unknown.sorted().joined(separator: ", "))"])
        }
    }
}
