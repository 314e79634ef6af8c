import Foundation
import BagbotDomain
import BagbotIPC
import GRDB
import Testing

/// The strategy registry over arsenald's real socket, its choices in the real state directory.
extension TradePathTests {
    @Test("arsenal.enable / setParameters over IPC: bad values are error frames, good ones survive kill -9 of arsenald")
    func registryOverIPC() async throws {
        try await TestSystem.with { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            try await system.waitUntil("arsenald to answer", timeout: .seconds(30)) {
                (try? await system.call("arsenald", Methods.arsenalStrategies, as: StrategiesResponse.self)) != nil
            }
            let listed = try await system.call("arsenald", Methods.arsenalStrategies, as: StrategiesResponse.self)
            #expect(listed.strategies.map(\.id) == ["micro_trend", "mean_reversion"])
            #expect(listed.strategies.allSatisfy { !$0.parameters.isEmpty && !$0.description.isEmpty })

            let refused = await #expect(throws: IPCError.self) {
                try await system.call("arsenald", Methods.arsenalSetParameters,
                                      SetStrategyParametersRequest(id: "mean_reversion", parameters: ["exit_z": .number(5)]), as: StrategyInfo.self)
            }
            #expect(refused?.code == .badRequest)
            #expect(refused?.message.contains("exit_z: must be below entry_z") == true, "\(refused?.message ?? "")")
            let missing = await #expect(throws: IPCError.self) {
                try await system.call("arsenald", Methods.arsenalEnable, StrategyIdRequest(id: "grid"), as: StrategyInfo.self)
            }
            #expect(missing?.code == .notFound)

            let enabled = try await system.call("arsenald", Methods.arsenalEnable, StrategyIdRequest(id: "mean_reversion"), as: StrategyInfo.self)
            #expect(enabled.enabled)
            let tuned = try await system.call("arsenald", Methods.arsenalSetParameters,
                                              SetStrategyParametersRequest(id: "mean_reversion", parameters: ["entry_z": .number(3), "window": .number(40)]),
                                              as: StrategyInfo.self)
            #expect(tuned.parameters.first { $0.name == "entry_z" }?.value == 3)
            _ = try await system.call("arsenald", Methods.arsenalDisable, StrategyIdRequest(id: "micro_trend"), as: StrategyInfo.self)

            await system.killHard("arsenald")
            try system.start("arsenald")
            try await system.waitUntil("arsenald to answer again", timeout: .seconds(30)) {
                (try? await system.call("arsenald", Methods.arsenalStrategies, as: StrategiesResponse.self)) != nil
            }
            let reversion = try await system.call("arsenald", Methods.arsenalStrategy, StrategyIdRequest(id: "mean_reversion"), as: StrategyInfo.self)
            #expect(reversion.enabled)
            let entryZ = try #require(reversion.parameters.first { $0.name == "entry_z" })
            #expect(entryZ.value == 3 && entryZ.source == .runtime)
            #expect(reversion.parameters.first { $0.name == "window" }?.value == 40)
            let micro = try await system.call("arsenald", Methods.arsenalStrategy, StrategyIdRequest(id: "micro_trend"), as: StrategyInfo.self)
            #expect(!micro.enabled)
        }
    }

    @Test("arsenal.performance counts a strategy's round trip from routerd's fill log, to the digit of its fills")
    func performanceOverIPC() async throws {
        try await TestSystem.with { system in
            try system.start(["mindsetd", "routerd", "arsenald"])
            let bought = try await trade(system, .buy, ExactDecimal("0.002")!)
            let sold = try await trade(system, .sell, ExactDecimal("0.002")!)
            try await system.waitUntil("arsenald to answer", timeout: .seconds(30)) {
                (try? await system.call("arsenald", Methods.arsenalPerformance, PerformanceQuery(strategyId: "e2e"),
                                        as: PerformanceResponse.self)) != nil
            }
            let response = try await system.call("arsenald", Methods.arsenalPerformance, PerformanceQuery(strategyId: "e2e"),
                                                 as: PerformanceResponse.self)
            let e2e = try #require(response.strategies.first)
            #expect(response.strategies.count == 1 && e2e.strategyId == "e2e" && e2e.trades == 1)
            let btc = try #require(e2e.symbols.first)
            let buyPrice = try #require(bought.averageFillPrice), sellPrice = try #require(sold.averageFillPrice)
            let fees: ExactDecimal = try await system.database().read { db in
                try ExactDecimal.fetchAll(db, sql: "SELECT fee FROM fills WHERE strategy_id = 'e2e'").reduce(.zero) { try $0 + $1 }
            }
            let expected = try (sellPrice - buyPrice).times(ExactDecimal("0.002")!) - fees
            #expect(btc.netPnl == expected, "\(btc)")
            #expect(btc.fees == fees && btc.position.isZero && btc.exposure.isZero)
        }
    }
}
