import ArgumentParser
import ArsenalCore
import BagbotRuntime

@main
struct Arsenald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arsenald", abstract: "BAGBOT strategy arsenal: runs the strategies on every tick and drives the trade path.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        await DaemonRunner.run(ArsenalDaemon.self, options: options)
    }
}
