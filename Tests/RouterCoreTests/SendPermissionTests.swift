import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

/// A live order is handed to its venue while its `sent` record syncs, and may leave the machine only once that record
/// is on disk (`SendPermission`, docs/venues/binance.md, "An order prepared while its record syncs").
@Suite("An order prepared while its record syncs: sent only once it is on disk")
struct SendPermissionTests {
    @Test("a permission wakes every waiter with its decision, and the first decision stands")
    func decisions() async throws {
        let granted = SendPermission()
        let first = Task { await granted.decision() }
        let second = Task { await granted.decision() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(granted.isGranted == nil)
        granted.grant()
        granted.refuse()
        #expect(await first.value)
        #expect(await second.value)
        #expect(await granted.decision(), "decided before the wait")
        #expect(granted.isGranted == true)

        let refused = SendPermission()
        let waiting = Task { await refused.decision() }
        try await Task.sleep(for: .milliseconds(20))
        refused.refuse()
        refused.grant()
        #expect(await waiting.value == false)
        #expect(refused.isGranted == false)
        #expect(await SendPermission.granted.decision())
    }

    @Test("a waiter whose task is cancelled is told no, so it never sends, and the others still wait", .timeLimit(.minutes(1)))
    func cancelledWaiter() async throws {
        let permission = SendPermission()
        let cancelled = Task { await permission.decision() }
        let other = Task { await permission.decision() }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(permission.isGranted == nil)
        permission.grant()
        #expect(await other.value)
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await SendPermission().decision()
        }
        #expect(await late.value == false, "cancelled before it waited")
    }

    func liveRouter() async throws -> (RouterFixture, MisbehavingStore, ScriptedVenue, RouterService) {
        try await FailedSendTests().liveRouter()
    }

    @Test("the venue has the order while its record is being written, and places it only once it is stored as sent")
    func preparedWhileWriting() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        // The write waits (as a slow sync does) until the venue has the order: both are under way at once.
        storage.whileInsertingSent.withLockedValue {
            $0 = { sent in
                let deadline = Date().addingTimeInterval(10)
                while binance.arrivals.withLockedValue({ $0[sent.clientOrderId] }) == nil, Date() < deadline { usleep(1_000) }
            }
        }
        let statusAtSend = NIOLockedValueBox<OrderStatus?>(nil)
        let store = fixture.store
        await binance.setOnGranted { id in
            let status = try? await store.order(clientOrderId: id)?.status
            statusAtSend.withLockedValue { $0 = status }
        }
        let order = try await service.place(request("bb-early", "BTCUSDT", .buy, 0.5))
        #expect(order.status == .filled)
        #expect(binance.arrivals.withLockedValue { $0["bb-early"] } == .some(nil), "handed to the venue before routerd decided")
        #expect(statusAtSend.withLockedValue { $0 } == .sent, "on disk as sent before the venue may send it")
        #expect(await binance.placeCalls == ["bb-early"])
    }

    @Test("a failed write refuses the order: the venue never places it, and routerd answers after the venue's attempt ended")
    func refusedAfterFailedWrite() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        storage.failBeforeInsert.withLockedValue { $0 = true }
        _ = await expectIPCError(.notSent) { _ = try await service.place(request("bb-unwritten", "BTCUSDT", .buy, 0.5)) }
        #expect(await binance.decisions["bb-unwritten"] == false, "refused before routerd answered")
        #expect(await binance.placeCalls.isEmpty)
        #expect(try await fixture.store.order(clientOrderId: "bb-unwritten") == nil)

        storage.failBeforeInsert.withLockedValue { $0 = false }
        storage.failInsert.withLockedValue { $0 = true }
        let landed = try await service.place(request("bb-landed", "BTCUSDT", .buy, 0.5))
        #expect(landed.status == .rejected && landed.rejectReason?.hasPrefix("never_sent") == true)
        #expect(await binance.decisions["bb-landed"] == false)
        #expect(await binance.placeCalls.isEmpty, "never placed")
    }

    @Test("a retried order whose id is stored is answered from the record; its second attempt is refused at the venue")
    func retryRefused() async throws {
        let (_, _, binance, service) = try await liveRouter()
        let first = try await service.place(request("bb-retry", "BTCUSDT", .buy, 0.5))
        #expect(first.status == .filled)
        let again = try await service.place(request("bb-retry", "BTCUSDT", .buy, 0.5))
        #expect(again.status == .filled)
        #expect(await binance.decisions["bb-retry"] == false, "the second attempt's permission refused")
        #expect(await binance.placeCalls == ["bb-retry"], "placed once")
    }
}
