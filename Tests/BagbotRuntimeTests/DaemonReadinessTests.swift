import BagbotTestSupport
import Testing
@testable import BagbotRuntime

@Suite("DaemonReadiness")
struct DaemonReadinessTests {
    @Test("ready before or after the wait starts; said twice is still once")
    func readyAnyOrder() async {
        let early = DaemonReadiness()
        early.ready()
        early.ready()
        #expect(early.isReady)
        #expect(await early.wait())

        let late = DaemonReadiness()
        #expect(!late.isReady)
        async let waited = late.wait()
        try? await Task.sleep(for: .milliseconds(20))
        late.ready()
        #expect(await waited)
    }

    @Test("a wait cancelled before ready says not ready")
    func cancelledWait() async {
        let readiness = DaemonReadiness()
        let waiting = Task { await readiness.wait() }
        waiting.cancel()
        #expect(await waiting.value == false)
    }
}
