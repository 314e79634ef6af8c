import ArgumentParser
import GatewayCore
import BagbotRuntime

@main
struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "BAGBOT HTTP API: tokens, tiers and the routes in front of the daemons.")

    @OptionGroup var options: CommonOptions

    @Option(help: "TCP port to listen on (gateway.port).")
    var port: Int?

    func run() async throws {
        var options = options
        if let port { options.overrides.append("gateway.port=\(port)") }
        await DaemonRunner.run(GatewayDaemon.self, options: options)
    }
}
