import ArgumentParser
import RouterCore
import BagbotRuntime

@main
struct Routerd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routerd", abstract: "BAGBOT multi-market router: market data, orders, fills, positions and the trading switch.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        await DaemonRunner.run(RouterDaemon.self, options: options)
    }
}
