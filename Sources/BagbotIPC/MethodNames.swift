/// Method and event names used across the daemons. `docs/ipc.md` documents each body and its errors.
public enum Methods {
    public static let hello = "hello"
    public static let health = "health"
    /// Every daemon: its recent log lines (`LogQuery` → `LogLinesResponse`), for `GET /api/logs`.
    public static let logsRecent = "logs.recent"
    /// Every daemon: its metrics as Prometheus text (`EmptyBody` → `MetricsExposition`), for `GET /metrics`.
    public static let metricsScrape = "metrics.scrape"

    public static let mindsetEvaluate = "mindset.evaluate"
    public static let mindsetState = "mindset.state"
    public static let mindsetLock = "mindset.lock"
    public static let mindsetUnlock = "mindset.unlock"
    public static let mindsetSelfLockout = "mindset.selfLockout"
    public static let mindsetSubscribe = "mindset.subscribe"

    public static let routerPlaceOrder = "router.placeOrder"
    public static let routerCancelOrder = "router.cancelOrder"
    public static let routerOrders = "router.orders"
    public static let routerPositions = "router.positions"
    public static let routerAccount = "router.account"
    public static let routerSubscribe = "router.subscribe"
    public static let routerTicksProcessed = "router.ticksProcessed"
    public static let routerStrategyPositions = "router.strategyPositions"
    public static let routerFills = "router.fills"
    public static let routerFillHistory = "router.fillHistory"
    public static let routerEquityHistory = "router.equityHistory"
    public static let routerPause = "router.pause"
    public static let routerResume = "router.resume"
    public static let routerSymbolRules = "router.symbolRules"

    public static let arsenalStrategies = "arsenal.strategies"
    public static let arsenalStrategy = "arsenal.strategy"
    public static let arsenalEnable = "arsenal.enable"
    public static let arsenalDisable = "arsenal.disable"
    public static let arsenalSetParameters = "arsenal.setParameters"
    public static let arsenalPerformance = "arsenal.performance"
    public static let arsenalPlaceManualOrder = "arsenal.placeManualOrder"
    public static let arsenalSubscribe = "arsenal.subscribe"
    public static let arsenalSignals = "arsenal.signals"
}

public enum Events {
    public static let tick = "router.tick"
    public static let order = "router.order"
    public static let fill = "router.fill"
    public static let signal = "arsenal.signal"
    public static let decision = "arsenal.decision"
    public static let mindsetTransition = "mindset.transition"
}

public enum Topics {
    public static let ticks = EventTopic("ticks", policy: .dropOldest)
    public static let orders = EventTopic("orders", policy: .neverDrop)
    public static let fills = EventTopic("fills", policy: .neverDrop)
    public static let signals = EventTopic("signals", policy: .neverDrop)
    /// mindsetd's emotion-state transitions (`mindset.transition` events).
    public static let mindsetState = EventTopic("state", policy: .neverDrop)

    public static let router = [ticks, orders, fills]
}

