import Foundation
import Logging
import Testing
@testable import RouterCore

@Suite("Binance REST client without Binance")
struct BinanceRESTClientTests {
    @Test("no connection to Binance means not sent (nothing can have executed): an order is refused, not looked up")
    func refusedConnectionIsNotSent() async throws {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let client = BinanceRESTClient(baseURL: "http://127.0.0.1:1", credential: .hmac(apiKey: "k", secret: Array("s".utf8)),
                                       logger: Logger(label: "test"))
        do {
            _ = try await client.send(.init(method: .POST, path: "/api/v3/order", parameters: [("symbol", "BTCUSDT")], signed: true,
                                            weight: 1, isOrder: true, timeout: .seconds(5)))
            Issue.record("a request to a closed port succeeded")
        } catch .notSent(let reason) {
            #expect(reason.contains("127.0.0.1:1"))
        } catch {
            Issue.record("expected notSent, got \(error)")
        }
        await client.shutdown()
    }

    @Test("a signed request without a credential is not sent")
    func noCredential() async throws {
        let client = BinanceRESTClient(baseURL: "http://127.0.0.1:1", credential: nil, logger: Logger(label: "test"))
        await #expect(throws: BinanceRESTClient.Failure.self) {
            _ = try await client.send(.init(method: .GET, path: "/api/v3/account", parameters: [], signed: true, weight: 20, isOrder: false,
                                            timeout: .seconds(5)))
        }
        await client.shutdown()
    }
}
