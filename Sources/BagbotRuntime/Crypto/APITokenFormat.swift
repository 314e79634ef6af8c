import Foundation

/// API tokens: "bgb_" + 32 random bytes in base64url. The prefix makes a leaked token recognisable
/// (secret scanners, logs); only the SHA-256 of the whole token is ever stored.
public enum APITokenFormat {
    public static let prefix = "bgb_"

    public static func generate() throws -> String {
        prefix + Crypto.base64URL(try Crypto.randomBytes(32))
    }

    public static func hash(_ token: String) -> String {
        Crypto.hex(Crypto.sha256(token))
    }

    /// The part shown in listings and logs: enough to tell tokens apart, useless to an attacker.
    public static func displayPrefix(_ token: String) -> String {
        String(token.prefix(prefix.count + 6))
    }

    public static func looksValid(_ token: String) -> Bool {
        token.hasPrefix(prefix) && token.count == prefix.count + 43
            && token.dropFirst(prefix.count).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
