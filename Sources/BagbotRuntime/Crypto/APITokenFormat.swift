import Foundation

/// API tokens: `bgb_` + 32 random bytes in base64url (43 characters) + a 6-character checksum, 53 characters in
/// all. The prefix makes a leaked token recognisable (secret scanners, logs); the checksum lets a scanner confirm a
/// candidate offline and lets the gateway refuse a mistyped token before any database look-up. Only the SHA-256 of
/// the whole token is ever stored.
///
/// The checksum is the CRC-32 (IEEE 802.3, as zlib computes it) of everything before it (`bgb_` and the random
/// part), written in base 62 (`0-9A-Za-z`) left-padded to 6 characters, the construction GitHub's tokens use. It
/// catches every single-character typo and every adjacent swap; it is no secret and no security measure (anyone
/// can compute it), which is why the random part alone carries the token's strength.
///
/// Tokens made before the checksum existed (`bgb_` + 43 characters, no checksum) are still recognised as
/// `.legacy`; the gateway accepts them unless `gateway.accept_legacy_tokens` is false (docs/api.md).
public enum APITokenFormat {
    public static let prefix = "bgb_"
    /// Characters of the random part: 32 bytes in unpadded base64url.
    public static let secretLength = 43
    public static let checksumLength = 6
    /// The whole token: prefix, random part, checksum.
    public static let length = prefix.count + secretLength + checksumLength
    /// A token made before the checksum: prefix and random part only.
    public static let legacyLength = prefix.count + secretLength

    public enum Kind: String, Sendable, Equatable, Codable {
        case current, legacy
    }

    /// Why a presented string is not a token; both are decided without the database.
    public enum Problem: Error, Sendable, Equatable {
        /// Not `bgb_` followed by base64url characters of one of the two lengths.
        case malformed
        /// The right shape, but the checksum does not match: mistyped or truncated and padded.
        case badChecksum
    }

    public static func generate() throws -> String {
        let body = prefix + Crypto.base64URL(try Crypto.randomBytes(32))
        return body + checksum(of: body)
    }

    public static func hash(_ token: String) -> String {
        Crypto.hex(Crypto.sha256(token))
    }

    /// The part shown in listings and logs: enough to tell tokens apart, useless to an attacker.
    public static func displayPrefix(_ token: String) -> String {
        String(token.prefix(prefix.count + 6))
    }

    /// The checksum of `body` (`bgb_` and the random part): CRC-32 in base 62, 6 characters.
    public static func checksum(of body: String) -> String {
        base62(CRC32.checksum(Array(body.utf8)), width: checksumLength)
    }

    /// Which kind of token `token` is, or why it is none; no database is involved.
    public static func classify(_ token: String) -> Result<Kind, Problem> {
        let bytes = Array(token.utf8)
        guard bytes.count == length || bytes.count == legacyLength,
              token.hasPrefix(prefix),
              bytes.dropFirst(prefix.utf8.count).allSatisfy(isBase64URL)
        else { return .failure(.malformed) }
        if bytes.count == legacyLength { return .success(.legacy) }
        let body = String(decoding: bytes.prefix(legacyLength), as: UTF8.self)
        let presented = String(decoding: bytes.suffix(checksumLength), as: UTF8.self)
        return presented == checksum(of: body) ? .success(.current) : .failure(.badChecksum)
    }

    /// True for a well-formed token of either kind with, for a current token, a matching checksum.
    public static func looksValid(_ token: String) -> Bool {
        if case .success = classify(token) { return true }
        return false
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    public static func base62(_ value: UInt32, width: Int) -> String {
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var remaining = UInt64(value)
        var out = [UInt8](repeating: digits[0], count: width)
        var index = width - 1
        // 62^6 > 2^32, so six digits always hold a CRC-32.
        while remaining > 0 && index >= 0 {
            out[index] = digits[Int(remaining % 62)]
            remaining /= 62
            index -= 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the one zlib and PNG use.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
