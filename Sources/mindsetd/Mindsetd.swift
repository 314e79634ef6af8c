import ArgumentParser
import MindsetCore
import BagbotRuntime

@main
struct Mindsetd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mindsetd", abstract: "BAGBOT mindset engine: approves or blocks every trade, and says why.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        await DaemonRunner.run(MindsetDaemon.self, options: options)
    }
}

