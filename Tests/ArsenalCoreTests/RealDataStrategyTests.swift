import Foundation
import BagbotDomain
import BagbotTestSupport
import RouterCore
import Testing
@testable import ArsenalCore

/// Each strategy over both real files of `../shared/data`, every signal filled at once at its price: what the
/// strategies do with real markets, and the invariants of the shared mechanics.
@Suite("strategies on the real recorded data", .enabled(if: SharedData.exists(SharedData.btcusdt) && SharedData.exists(SharedData.eurusd),
                                                        "../shared/data is not present"))
struct RealDataStrategyTests {
    struct Run: Equatable {
        var signals: [Signal] = []
        var entries: Int { signals.filter(\.isEntry).count }
        var stops: Int { signals.filter { $0.reason.hasPrefix("stop loss") }.count }
    }

    /// Feeds every tick of `path` to `strategy`, fills each signal in full at its price, and checks after every
    /// fill that the position never exceeds the base quantity and that entries and exits alternate.
    static func run(_ strategy: some RegisteredStrategy, _ path: String) throws -> Run {
        let file = try ReplayParser.parse(path: path, tradeSpreadBps: 1)
        var run = Run()
        var number = 0
        for tick in file.ticks {
            guard let signal = strategy.onTick(tick, requestId: { number += 1; return "real-\(number)" }) else { continue }
            if let previous = run.signals.last {
                #expect(previous.isEntry != signal.isEntry, "entries and exits alternate: \(previous.reason) then \(signal.reason)")
            }
            run.signals.append(signal)
            _ = try strategy.onFill(Fill(fillId: signal.requestId, clientOrderId: "bb-\(signal.requestId)", venue: .paper, symbol: signal.symbol,
                                         side: signal.side, quantity: signal.quantity, price: signal.price, fee: 0, time: signal.time,
                                         strategyId: strategy.id, requestId: signal.requestId))
            strategy.orderEnded(symbol: signal.symbol, role: OrderRole(signal))
            let position = try #require(strategy.position(of: signal.symbol))
            #expect(position.quantity.magnitude <= 10_000, "never more than one base quantity")
            #expect(signal.isEntry ? !position.isFlat : position.isFlat, "an exit closes the whole position")
        }
        return run
    }

    private static func microTrend() -> MicroTrendStrategy { MicroTrendStrategy(settings: ArsenalSettings().microTrend) }

    private static func meanReversion() -> MeanReversionStrategy {
        var settings = ArsenalSettings().meanReversion
        settings.basics.enabled = true
        return MeanReversionStrategy(settings: settings)
    }

    @Test("Micro Trend Follower: trades BTCUSDT's bursts; EURUSD's New Year spreads exceed its moves, so no entry; the same file gives the same signals")
    func microTrendOnRealData() throws {
        let btc = try Self.run(Self.microTrend(), SharedData.btcusdt)
        #expect(btc.entries > 0)
        #expect(try Self.run(Self.microTrend(), SharedData.btcusdt) == btc, "deterministic")
        let eur = try Self.run(Self.microTrend(), SharedData.eurusd)
        #expect(eur.signals.isEmpty)
    }

    @Test("Mean Reversion: fades BTCUSDT's stretches and closes every one; deterministic; every stop is at least 1 % against its entry")
    func meanReversionOnRealData() throws {
        let btc = try Self.run(Self.meanReversion(), SharedData.btcusdt)
        #expect(btc.entries > 0)
        #expect(try Self.run(Self.meanReversion(), SharedData.btcusdt) == btc, "deterministic")
        for (entry, exit) in zip(btc.signals, btc.signals.dropFirst()) where exit.reason.hasPrefix("stop loss") && entry.isEntry {
            let move = (exit.price.doubleValue - entry.price.doubleValue) / entry.price.doubleValue * (entry.side == .buy ? 1 : -1)
            #expect(move <= -0.0099, "stopped at \(move)")
        }
        _ = try Self.run(Self.meanReversion(), SharedData.eurusd)
    }
}
