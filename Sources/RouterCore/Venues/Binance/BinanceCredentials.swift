import Foundation
import BagbotRuntime

/// Where routerd finds its Binance key: files in systemd's `$CREDENTIALS_DIRECTORY` (delivered by `LoadCredential=`,
/// readable by this service alone), or in `router.binance.credentials_dir` (what `bagbot up` uses), never in the
/// configuration file or the environment. `binance-api-key` holds the API key; `binance-ed25519-key` the Ed25519
/// private key (PEM), or `binance-hmac-secret` the HMAC secret.
public enum BinanceCredentials {
    public static let apiKeyFile = "binance-api-key"
    public static let ed25519KeyFile = "binance-ed25519-key"
    public static let hmacSecretFile = "binance-hmac-secret"

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(_ settings: BinanceSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BinanceCredential {
        let directory: String
        let fromSystemd: Bool
        if !settings.credentialsDir.isEmpty {
            (directory, fromSystemd) = (settings.credentialsDir, false)
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty {
            (directory, fromSystemd) = (credentials, true)
        } else {
            throw Missing(description: "router.binance is enabled but no credential was given: deliver \(apiKeyFile) and "
                + "\(settings.keyType == .ed25519 ? ed25519KeyFile : hmacSecretFile) with LoadCredential= (see docs/venues/binance.md), "
                + "or set router.binance.credentials_dir")
        }
        let apiKey = try read(apiKeyFile, in: directory, checkPrivate: !fromSystemd).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !apiKey.isEmpty, apiKey.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Missing(description: "\(directory)/\(apiKeyFile) does not hold an API key (one line of printable ASCII)")
        }
        switch settings.keyType {
        case .ed25519:
            let pem = try read(ed25519KeyFile, in: directory, checkPrivate: !fromSystemd)
            do {
                return .ed25519(apiKey: apiKey, key: try Ed25519PrivateKey(pem: pem))
            } catch {
                throw Missing(description: "\(directory)/\(ed25519KeyFile) is not an Ed25519 private key in PEM: \(error)")
            }
        case .hmac:
            let secret = try read(hmacSecretFile, in: directory, checkPrivate: !fromSystemd).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw Missing(description: "\(directory)/\(hmacSecretFile) is empty") }
            return .hmac(apiKey: apiKey, secret: Array(secret.utf8))
        }
    }

    /// A credential file's text; outside systemd's directory, one that others may read is refused (a key that
    /// has been readable by other users must be taken as known to them).
    private static func read(_ name: String, in directory: String, checkPrivate: Bool) throws -> String {
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0 else { throw Missing(description: "\(path) cannot be read: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Missing(description: "\(path) is not a regular file") }
        if checkPrivate, info.st_mode & 0o077 != 0 {
            throw Missing(description: "\(path) may be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); make it 0600")
        }
        guard info.st_size <= 64 * 1024, let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw Missing(description: "\(path) is not a small text file")
        }
        return text
    }
}
