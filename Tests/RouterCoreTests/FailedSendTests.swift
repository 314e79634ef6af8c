import Foundation
import BagbotDomain
import BagbotIPC
import BagbotTestSupport
import NIOConcurrencyHelpers
import Testing
@testable import RouterCore

/// A live venue's new order is stored and recorded `sent` in one synced transaction (`OrderStore.insertSent`); when
/// that transaction fails the order was not handed to the venue, and must never be taken for one that was, nor
/// hold back the exits that follow (`RouterService.settleFailedSend`; docs/reliability.md, "Durability").
@Suite("A live order's transaction before the venue fails: never sent, never in the way")
struct FailedSendTests {
    /// A router whose only venue is a scripted live one, over a store that misbehaves on demand. (On paper an order is
    /// stored in the venue's transaction: an insert cannot land without the rest.)
    func liveRouter() async throws -> (RouterFixture, MisbehavingStore, ScriptedVenue, RouterService) {
        let fixture = try RouterFixture()
        let storage = MisbehavingStore(fixture.store)
        let binance = ScriptedVenue(id: .binance, symbols: ["BTCUSDT"])
        let service = try await fixture.service(storage: storage, venues: [binance], paperTrading: false)
        return (fixture, storage, binance, service)
    }

    @Test("an order stored as sent by a commit that reported an error is rejected as never sent, and never blocks the exits that follow (a live venue)")
    func landedInsertDoesNotBlockExits() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        _ = try await service.place(request("bb-open", "BTCUSDT", .buy, 0.5))
        storage.failInsert.withLockedValue { $0 = true }
        let exit1 = try await service.place(request("bb-exit-1", "BTCUSDT", .sell, 0.5, reduceOnly: true))
        storage.failInsert.withLockedValue { $0 = false }
        #expect(exit1.status == .rejected)
        #expect(exit1.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try await fixture.store.order(clientOrderId: "bb-exit-1")?.status == .rejected)
        #expect(await binance.placeCalls == ["bb-open"], "never handed to the venue")
        #expect(storage.commits.withLockedValue { $0.last.map { "\($0.0.rawValue) \($0.1)" } } == "rejected true",
                "synced: after a power cut a `sent` would come back and count against the exits")
        #expect(try await service.place(request("bb-exit-2", "BTCUSDT", .sell, 0.5, reduceOnly: true)).status == .filled,
                "the stop must go out: an order that never left the machine reduces nothing")
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
    }

    @Test("when even that rejection cannot be written, the order stays sealed (its symbol waits, look-ups are refused) until the schedule writes it")
    func landedSendSealedBySchedule() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        storage.failInsert.withLockedValue { $0 = true }
        storage.conflictWhen.withLockedValue { $0 = .rejected }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-landed", "BTCUSDT", .buy, 0.5)) }
        #expect(try await fixture.store.order(clientOrderId: "bb-landed")?.status == .sent)
        _ = await expectIPCError(.unavailable) { _ = try await service.orders(OrdersQuery(clientOrderId: "bb-landed")) }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-landed", "BTCUSDT", .buy, 0.5)) }
        let waiting = await expectIPCError(.conflict) { _ = try await service.place(request("bb-next", "BTCUSDT", .buy, 0.5)) }
        #expect(waiting?.message.contains("bb-landed") == true, "its symbol waits")
        await service.settleUnsettled()
        #expect(await service.unsettledOrders == ["bb-landed"], "still sealed while the rejection cannot be written")

        storage.failInsert.withLockedValue { $0 = false }
        storage.conflictWhen.withLockedValue { $0 = nil }
        await service.settleUnsettled()
        #expect(await service.unsettledOrders.isEmpty)
        let settled = try await fixture.store.order(clientOrderId: "bb-landed")
        #expect(settled?.status == .rejected)
        #expect(settled?.rejectReason?.hasPrefix("never_sent") == true)
        #expect(await binance.placeCalls.isEmpty, "never looked up as if sent, never sent")
        #expect(await binance.lookups == 0)
    }

    @Test("an exit sealed as never sent reduces nothing: the next exit goes out while the first waits for its rejection")
    func sealedExitDoesNotBlockTheNext() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        _ = try await service.place(request("bb-open", "BTCUSDT", .buy, 0.5))
        storage.failInsert.withLockedValue { $0 = true }
        storage.conflictWhen.withLockedValue { $0 = .rejected }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-exit-1", "BTCUSDT", .sell, 0.5, reduceOnly: true)) }
        storage.failInsert.withLockedValue { $0 = false }
        storage.conflictWhen.withLockedValue { $0 = nil }
        #expect(try await fixture.store.order(clientOrderId: "bb-exit-1")?.status == .sent)
        #expect(try await service.place(request("bb-exit-2", "BTCUSDT", .sell, 0.5, reduceOnly: true)).status == .filled,
                "the stop must go out: the first exit never left the machine")
        await service.settleUnsettled()
        #expect(try await fixture.store.order(clientOrderId: "bb-exit-1")?.status == .rejected)
        #expect(await binance.placeCalls == ["bb-open", "bb-exit-2"])
    }

    @Test("a retry whose write fails and whose id cannot be read is told to look it up, never not_sent: its first attempt may have been sent")
    func unreadableRetryIsNotNotSent() async throws {
        let (_, storage, binance, service) = try await liveRouter()
        #expect(try await service.place(request("bb-first", "BTCUSDT", .buy, 0.5)).status == .filled)
        storage.failBeforeInsert.withLockedValue { $0 = true }
        storage.failReads.withLockedValue { $0 = true }
        _ = await expectIPCError(.internal) { _ = try await service.place(request("bb-first", "BTCUSDT", .buy, 0.5)) }
        // A generated id is new: nothing of it can have been sent.
        _ = await expectIPCError(.notSent) {
            _ = try await service.place(request(nil, "BTCUSDT", .buy, 0.5))
        }
        #expect(await binance.placeCalls == ["bb-first"])
    }

    @Test("a live order whose commit failed unseen is stored as rejected, synced, before anyone is told; it is never sent")
    func liveFailedCommitUnseenIsSealed() async throws {
        let (fixture, storage, binance, service) = try await liveRouter()
        storage.failSendUnseen.withLockedValue { $0 = true }
        let answer = try await service.place(request("bb-unseen", "BTCUSDT", .buy, 0.5))
        storage.failSendUnseen.withLockedValue { $0 = false }
        #expect(answer.status == .rejected)
        #expect(answer.rejectReason?.hasPrefix("never_sent") == true)
        #expect(try await fixture.store.order(clientOrderId: "bb-unseen")?.status == .rejected)
        #expect(storage.commits.withLockedValue { $0.map { "\($0.0.rawValue) \($0.1)" } } == ["sent true"])
        #expect(await binance.placeCalls.isEmpty)
    }
}
