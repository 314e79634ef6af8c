import Foundation
import BagbotRuntime
import BagbotTestSupport
import ServiceLifecycleTestKit
import Testing
@testable import MindsetCore

@Suite("mindsetd as a service: ready once it serves, stopped by a graceful shutdown")
struct MindsetDaemonLifecycleTests {
    @Test("run() binds the socket, says ready, and returns after the graceful shutdown with the socket gone")
    func gracefulShutdown() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let config = BagbotConfig.forDaemon(sections: MindsetDaemon.configSections, in: directory)
        let readiness = DaemonReadiness()
        let daemon = MindsetDaemon(context: DaemonContext(service: "mindsetd", config: config, logger: quietLogger, readiness: readiness))
        let socket = config.paths.socket(for: "mindsetd")

        try await testGracefulShutdown { trigger in
            async let running: Void = daemon.run()
            #expect(await readiness.wait())
            #expect(readiness.isReady)
            #expect(FileManager.default.fileExists(atPath: socket))
            #expect(await daemon.isHealthy())
            trigger.triggerGracefulShutdown()
            try await running
        }
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
