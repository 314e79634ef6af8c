import BagbotDomain
import Testing
@testable import RouterCore

/// routerd's small calls run on its core thread only while no venue but the paper venue is configured: a task's
/// executor preference would carry the Binance venue's REST work onto that thread (docs/architecture.md).
@Suite("Which thread routerd's order, cancel, positions and account calls run on")
struct CallExecutorTests {
    @Test("the core thread with the paper venue alone; the pool as soon as another venue is configured, live or not")
    func coreOnlyWithThePaperVenueAlone() {
        let alone = RouterDaemon.callExecutor(venues: [.paper])
        #expect(alone.map { $0 as AnyObject === RouterExecutor.shared.tasks } == true)
        #expect(RouterDaemon.callExecutor(venues: [.paper, .binance]) == nil)
        #expect(RouterDaemon.callExecutor(venues: [.binance]) == nil)
    }
}
