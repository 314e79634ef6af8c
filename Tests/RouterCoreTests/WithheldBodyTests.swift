import NIOCore
import Testing
@testable import RouterCore

/// `WithheldBody`'s one atomic state: its bytes are handed over or sealed unsent, never both, whichever side comes
/// first (docs/venues/binance.md, "An order prepared while its record syncs").
@Suite("A withheld request body: handed over or sealed unsent, never both")
struct WithheldBodyTests {
    static func body(_ permission: SendPermission, sendBy: ContinuousClock.Instant = .now + .seconds(60)) -> WithheldBody {
        WithheldBody(ByteBuffer(string: "symbol=BTCUSDT&signature=00"), until: permission, sendBy: sendBy)
    }

    /// The body's one part, or nil when its read failed.
    static func read(_ body: WithheldBody) async -> ByteBuffer? {
        var iterator = body.makeAsyncIterator()
        return try? await iterator.next()
    }

    @Test("sealed first: a grant hands nothing over")
    func sealedFirst() async {
        let body = Self.body(.granted)
        #expect(body.sealUnsent())
        #expect(await Self.read(body) == nil)
        #expect(body.sealUnsent(), "still unsent")
    }

    @Test("handed over first: it cannot be sealed, so it is never called unsent")
    func handedOverFirst() async {
        let body = Self.body(.granted)
        #expect(await Self.read(body) == ByteBuffer(string: "symbol=BTCUSDT&signature=00"))
        #expect(!body.sealUnsent())
    }

    @Test("refused, or granted after its send-by time: nothing handed over, and it is unsent")
    func refusedOrLate() async {
        let permission = SendPermission()
        permission.refuse()
        let refused = Self.body(permission)
        #expect(await Self.read(refused) == nil)
        #expect(refused.sealUnsent())

        let late = Self.body(.granted, sendBy: .now - .milliseconds(1))
        #expect(await Self.read(late) == nil)
        #expect(late.sealUnsent())
    }

    @Test("a grant racing a seal: exactly one wins, every time")
    func race() async {
        for _ in 0..<500 {
            let permission = SendPermission()
            let body = Self.body(permission)
            let reader = Task { await Self.read(body) != nil }
            let sealer = Task { body.sealUnsent() }
            permission.grant()
            let (handedOver, sealed) = (await reader.value, await sealer.value)
            #expect(handedOver != sealed, "handed over: \(handedOver), sealed unsent: \(sealed)")
        }
    }
}
