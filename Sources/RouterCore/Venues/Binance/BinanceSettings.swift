import Foundation
import BagbotRuntime

/// `router.binance` in `bagbot.yaml`: where Binance is, what BAGBOT trades there, and how it proves who it is.
/// The addresses default to the environment's (binance-spot-api-docs: rest-api.md "General API Information",
/// web-socket-streams.md, web-socket-api.md, and their testnet/ twins); each can be set on its own, which is how
/// the tests point the venue at a local fake.
public struct BinanceSettings: Codable, Sendable, Equatable {
    public enum Environment: String, Codable, Sendable {
        case production, testnet

        var restURL: String {
            switch self {
            case .production: "https://api.binance.com"
            case .testnet: "https://testnet.binance.vision"
            }
        }

        var marketStreamURL: String {
            switch self {
            case .production: "wss://stream.binance.com:9443"
            case .testnet: "wss://stream.testnet.binance.vision"
            }
        }

        var webSocketAPIURL: String {
            switch self {
            case .production: "wss://ws-api.binance.com:443/ws-api/v3"
            case .testnet: "wss://ws-api.testnet.binance.vision/ws-api/v3"
            }
        }
    }

    public enum KeyType: String, Codable, Sendable {
        /// An Ed25519 key pair (what Binance recommends): the private key's PEM file is the credential.
        case ed25519
        /// An HMAC key: the secret is the credential.
        case hmac
    }

    /// Off unless asked for: a live venue is never started by accident.
    public var enabled = false
    /// The testnet unless production is named.
    public var environment = Environment.testnet
    public var restUrl = ""
    public var marketStreamUrl = ""
    public var websocketApiUrl = ""
    /// The symbols traded there (BTCUSDT); their rules are read from `exchangeInfo`.
    public var symbols: [String] = []
    /// How long after its timestamp Binance may still execute a request (1…60000 ms; Binance's default is 5000).
    public var recvWindowMs = 5_000
    /// How long a new order's answer is waited for before its outcome is taken as unknown (and looked up).
    public var orderTimeoutMs = 10_000
    public var keyType = KeyType.ed25519
    /// Where the credential files are when systemd does not deliver them (`$CREDENTIALS_DIRECTORY`): a directory
    /// only its owner can read, holding `binance-api-key` and `binance-ed25519-key` (PEM) or `binance-hmac-secret`.
    public var credentialsDir = ""
    /// Minutes between two readings of `exchangeInfo` (the rules and the rate limits); a -1013 reads it at once.
    public var rulesRefreshMinutes = 60
    /// Minutes between two readings of Binance's clock.
    public var clockSyncMinutes = 5
    /// Between two checks of the orders working at Binance (`openOrders`, weight 6 per symbol), which finds resting
    /// orders that filled or ended meanwhile; only while BAGBOT has orders working there.
    public var orderPollMs = 2_000

    public init() {}

    public var resolvedRestURL: String { restUrl.isEmpty ? environment.restURL : restUrl }
    public var resolvedMarketStreamURL: String { marketStreamUrl.isEmpty ? environment.marketStreamURL : marketStreamUrl }
    public var resolvedWebSocketAPIURL: String { websocketApiUrl.isEmpty ? environment.webSocketAPIURL : websocketApiUrl }

    func validate(_ check: ConfigCheck, prefix: String) throws {
        guard enabled else { return }
        guard !symbols.isEmpty else { throw check.fail("\(prefix).symbols", "name at least one symbol to trade on Binance (e.g. [BTCUSDT])") }
        for symbol in symbols {
            guard !symbol.isEmpty, symbol.count <= 20, symbol.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
                throw check.fail("\(prefix).symbols", "\(symbol.prefix(40)) is not a Binance symbol (upper-case letters and digits, e.g. BTCUSDT)")
            }
        }
        for (value, key) in [(restUrl, "rest_url"), (marketStreamUrl, "market_stream_url"), (websocketApiUrl, "websocket_api_url")] where !value.isEmpty {
            guard let url = URL(string: value), let scheme = url.scheme, url.host != nil,
                  (key == "rest_url" ? ["https", "http"] : ["wss", "ws"]).contains(scheme) else {
                throw check.fail("\(prefix).\(key)", "\(value.prefix(80)) is not a \(key == "rest_url" ? "http(s)" : "ws(s)") URL")
            }
            // Plain text only to this machine: an API key must never cross a network unencrypted.
            if scheme == "http" || scheme == "ws" {
                guard ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "") else {
                    throw check.fail("\(prefix).\(key)", "must be https/wss unless it points at this machine (127.0.0.1)")
                }
            }
        }
        guard (1...60_000).contains(recvWindowMs) else { throw check.fail("\(prefix).recv_window_ms", "must be 1…60000 (Binance's limit)") }
        guard (100...120_000).contains(orderTimeoutMs) else { throw check.fail("\(prefix).order_timeout_ms", "must be 100…120000") }
        guard (1...1_440).contains(rulesRefreshMinutes) else { throw check.fail("\(prefix).rules_refresh_minutes", "must be 1…1440") }
        guard (1...60).contains(clockSyncMinutes) else { throw check.fail("\(prefix).clock_sync_minutes", "must be 1…60") }
        guard (200...60_000).contains(orderPollMs) else { throw check.fail("\(prefix).order_poll_ms", "must be 200…60000") }
    }
}
