import Foundation
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

/// Binance's own examples (binance-spot-api-docs, rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order")
/// and RFC 8032's Ed25519 test vectors.
@Suite("Binance request signing")
struct BinanceSigningTests {
    static let secret = Array("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".utf8)
    static let hmac = BinanceCredential.hmac(apiKey: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", secret: secret)

    static func order(symbol: String) -> [(name: String, value: String)] {
        [("symbol", symbol), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"), ("price", "0.1"),
         ("recvWindow", "5000"), ("timestamp", "1499827319559")]
    }

    @Test("HMAC-SHA256 over the documented ASCII request gives the documented signature")
    func hmacASCII() throws {
        let payload = BinanceSigning.payload(Self.order(symbol: "LTCBTC"))
        #expect(payload == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
        #expect(try BinanceSigning.signature(of: payload, with: Self.hmac) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    }

    @Test("a non-ASCII symbol is percent-encoded before signing, as documented")
    func hmacNonASCII() throws {
        let payload = BinanceSigning.payload(Self.order(symbol: "１２３４５６"))
        #expect(payload.hasPrefix("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"))
        #expect(try BinanceSigning.signature(of: payload, with: Self.hmac) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")
    }

    @Test("percent-encoding keeps only RFC 3986's unreserved characters, upper-case hex")
    func percentEncoding() {
        #expect(BinanceSigning.percentEncoded("aZ09-_.~") == "aZ09-_.~")
        #expect(BinanceSigning.percentEncoded("a/b+c=d&e f") == "a%2Fb%2Bc%3Dd%26e%20f")
        #expect(BinanceSigning.percentEncoded("é") == "%C3%A9")
    }

    @Test("Ed25519 signs as RFC 8032's test vectors 1 and 2")
    func ed25519Vectors() throws {
        let one = try Ed25519PrivateKey(raw: bytes(hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(Crypto.hex(one.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(Crypto.hex(try one.sign([])) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        let two = try Ed25519PrivateKey(raw: bytes(hex: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"))
        #expect(Crypto.hex(try two.sign([0x72])) == "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
    }

    @Test("an Ed25519 key from PEM (PKCS #8) signs a request; the signature is base64, percent-encoded, and verifies")
    func ed25519Request() throws {
        let raw = bytes(hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        // PKCS #8 for Ed25519: a fixed 16-byte prefix, then the 32 key bytes (RFC 8410).
        let der = bytes(hex: "302e020100300506032b657004220420") + raw
        let pem = "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        let key = try Ed25519PrivateKey(pem: pem)
        #expect(key.publicKey == (try Ed25519PrivateKey(raw: raw)).publicKey)

        let credential = BinanceCredential.ed25519(apiKey: "k", key: key)
        let query = try BinanceSigning.signedQuery([("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "LIMIT"), ("timeInForce", "GTC"),
                                                    ("quantity", "1"), ("price", "0.2")],
                                                   timestampMilliseconds: 1_668_481_559_918, recvWindowMilliseconds: 5_000, with: credential)
        let parts = query.components(separatedBy: "&signature=")
        try #require(parts.count == 2)
        #expect(parts[0] == "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&recvWindow=5000&timestamp=1668481559918")
        #expect(!parts[1].contains("+") && !parts[1].contains("/") && !parts[1].contains("="), "percent-encoded base64")
        let base64 = try #require(parts[1].removingPercentEncoding)
        let signature = try #require(Data(base64Encoded: base64))
        #expect(Ed25519PrivateKey.verify(signature: Array(signature), of: Array(parts[0].utf8), publicKey: key.publicKey))
        #expect(!Ed25519PrivateKey.verify(signature: Array(signature), of: Array((parts[0] + "0").utf8), publicKey: key.publicKey))
    }

    @Test("keys that are not Ed25519 private keys are refused with a reason")
    func badKeys() {
        #expect(throws: Crypto.Failure.self) { try Ed25519PrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
        #expect(throws: Crypto.Failure.self) { try Ed25519PrivateKey(pem: "not a key") }
        #expect(throws: Crypto.Failure.self) { try Ed25519PrivateKey(raw: [1, 2, 3]) }
    }
}

@Suite("Binance WebSocket API signing")
struct BinanceWebSocketSigningTests {
    static let secret = Array("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".utf8)
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"

    @Test("the documented vectors: parameters sorted by name, not percent-encoded, HMAC-SHA256 hex (ASCII and non-ASCII)")
    func documentedVectors() throws {
        let credential = BinanceCredential.hmac(apiKey: Self.apiKey, secret: Self.secret)
        // web-socket-api.md, "SIGNED request example (HMAC)": given in another order, signed sorted.
        let ascii: [(name: String, value: String)] = [
            ("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "0.01000000"),
            ("price", "52000.00"), ("recvWindow", "100"), ("timestamp", "1645423376532"), ("apiKey", Self.apiKey),
        ]
        #expect(try BinanceSigning.webSocketSignature(ascii, with: credential) == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")
        let unicode: [(name: String, value: String)] = [
            ("symbol", "１２３４５６"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1.00000000"),
            ("price", "0.10000000"), ("recvWindow", "5000"), ("timestamp", "1645423376532"), ("apiKey", Self.apiKey),
        ]
        #expect(try BinanceSigning.webSocketSignature(unicode, with: credential) == "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd")
    }
}
