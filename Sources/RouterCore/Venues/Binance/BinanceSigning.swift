import Foundation
import BagbotRuntime

/// How BAGBOT proves its requests to Binance (binance-spot-api-docs, rest-api.md, "SIGNED Endpoint security"):
/// the parameters as `name=value` pairs joined by `&`, percent-encoded **before** signing (Binance refuses a
/// signature over the raw text with -1022 since 2026-01), signed with the API key's secret (HMAC-SHA256, hex) or
/// its Ed25519 private key (base64, then percent-encoded, as Binance recommends), and the signature appended as the
/// last parameter. The API key itself goes in the `X-MBX-APIKEY` header.
public enum BinanceCredential: Sendable {
    case hmac(apiKey: String, secret: [UInt8])
    case ed25519(apiKey: String, key: Ed25519PrivateKey)

    public var apiKey: String {
        switch self {
        case .hmac(let apiKey, _), .ed25519(let apiKey, _): apiKey
        }
    }
}

public enum BinanceSigning {
    /// RFC 3986's unreserved characters are kept; every other byte of the UTF-8 text is `%XX` (upper-case hex),
    /// as Binance's examples encode (`１` → `%EF%BC%91`, `/` → `%2F`, `=` → `%3D`).
    public static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The payload that is signed and sent: each name and value percent-encoded, in the order given.
    public static func payload(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { percentEncoded($0.name) + "=" + percentEncoded($0.value) }.joined(separator: "&")
    }

    /// The `signature` parameter's value for `payload`, ready to append (already percent-encoded where needed).
    public static func signature(of payload: String, with credential: BinanceCredential) throws -> String {
        switch credential {
        case .hmac(_, let secret):
            return Crypto.hex(Crypto.hmacSHA256(key: secret, message: Array(payload.utf8)))
        case .ed25519(_, let key):
            return percentEncoded(Data(try key.sign(Array(payload.utf8))).base64EncodedString())
        }
    }

    /// A signed request's query: `parameters`, then `recvWindow` and `timestamp` (milliseconds of Binance's clock
    /// as this machine estimates it), then `signature`.
    public static func signedQuery(_ parameters: [(name: String, value: String)], timestampMilliseconds: Int64,
                                   recvWindowMilliseconds: Int, with credential: BinanceCredential) throws -> String {
        let payload = payload(parameters + [("recvWindow", "\(recvWindowMilliseconds)"), ("timestamp", "\(timestampMilliseconds)")])
        return payload + "&signature=" + (try signature(of: payload, with: credential))
    }

    /// A WebSocket API request's `signature` (web-socket-api.md, "SIGNED request security"): every parameter but the
    /// signature, sorted by name, as `name=value` joined by `&` **without** percent-encoding (the values travel in
    /// JSON); HMAC-SHA256 as hex, or Ed25519 as plain base64.
    public static func webSocketSignature(_ parameters: [(name: String, value: String)], with credential: BinanceCredential) throws -> String {
        let payload = parameters.sorted { $0.name < $1.name }.map { $0.name + "=" + $0.value }.joined(separator: "&")
        switch credential {
        case .hmac(_, let secret):
            return Crypto.hex(Crypto.hmacSHA256(key: secret, message: Array(payload.utf8)))
        case .ed25519(_, let key):
            return Data(try key.sign(Array(payload.utf8))).base64EncodedString()
        }
    }
}
