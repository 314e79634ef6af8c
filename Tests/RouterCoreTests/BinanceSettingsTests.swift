import Foundation
import BagbotDomain
import BagbotRuntime
import BagbotTestSupport
import Testing
@testable import RouterCore

@Suite("router.binance: settings and credentials")
struct BinanceSettingsTests {
    private let sections: [any ConfigSection.Type] = [RouterSettings.self]

    @Test("off by default; when enabled, the testnet unless production is named, each address overridable")
    func environments() throws {
        #expect(!RouterSettings().binance.enabled)
        let config = try loadConfig(yaml: """
            router:
              binance:
                enabled: true
                symbols: [BTCUSDT, ETHUSDT]
                rest_url: http://127.0.0.1:9000
            """, sections: sections)
        let binance = config[RouterSettings.self].binance
        #expect(binance.environment == .testnet)
        #expect(binance.resolvedRestURL == "http://127.0.0.1:9000")
        #expect(binance.resolvedWebSocketAPIURL == "wss://ws-api.testnet.binance.vision/ws-api/v3")
        var production = BinanceSettings()
        production.environment = .production
        #expect(production.resolvedRestURL == "https://api.binance.com")
        #expect(production.resolvedMarketStreamURL == "wss://stream.binance.com:9443")
    }

    @Test("refused with the key and the reason: live mode without a live venue, no symbols, plain HTTP off this machine, recvWindow past 60 s")
    func refusals() {
        let cases: [(String, String, String)] = [
            ("mode: live", "router.mode", "enable router.binance"),
            ("mode: real", "router.mode", "paper or live"),
            ("binance: { enabled: true }", "router.binance.symbols", "at least one symbol"),
            ("binance: { enabled: true, symbols: [btc-usdt] }", "router.binance.symbols", "not a Binance symbol"),
            ("binance: { enabled: true, symbols: [BTCUSDT], rest_url: 'http://api.example.com' }", "router.binance.rest_url", "https/wss"),
            ("binance: { enabled: true, symbols: [BTCUSDT], rest_url: 'ftp://127.0.0.1' }", "router.binance.rest_url", "http(s)"),
            ("binance: { enabled: true, symbols: [BTCUSDT], recv_window_ms: 60001 }", "router.binance.recv_window_ms", "60000"),
            ("binance: { enabled: true, symbols: [BTCUSDT], environment: mainnet }", "router.binance.environment", "mainnet"),
        ]
        for (yaml, key, reason) in cases {
            let error = configError(yaml: "router:\n  " + yaml + "\n", sections: sections)
            #expect(error?.key == key, "\(yaml): \(String(describing: error))")
            #expect(error?.reason.contains(reason) == true, "\(yaml): \(String(describing: error))")
        }
        #expect(configError(yaml: "router:\n  mode: live\n  binance: { enabled: true, symbols: [BTCUSDT] }\n", sections: sections) == nil)
    }

    @Test("credentials: from the configured directory only when no one else may read them; the key type decides the file")
    func credentials() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        var settings = BinanceSettings()
        settings.enabled = true
        settings.keyType = .hmac
        #expect(throws: BinanceCredentials.Missing.self) { try BinanceCredentials.load(settings, environment: [:]) }

        settings.credentialsDir = directory.path
        try write("my-api-key\n", to: directory.file(BinanceCredentials.apiKeyFile), mode: 0o600)
        try write("s3cret\n", to: directory.file(BinanceCredentials.hmacSecretFile), mode: 0o644)
        let open = #expect(throws: BinanceCredentials.Missing.self) { try BinanceCredentials.load(settings, environment: [:]) }
        #expect(open?.description.contains("0600") == true)
        chmod(directory.file(BinanceCredentials.hmacSecretFile), 0o600)
        guard case .hmac(let apiKey, let secret) = try BinanceCredentials.load(settings, environment: [:]) else {
            Issue.record("an HMAC credential was expected")
            return
        }
        #expect(apiKey == "my-api-key" && secret == Array("s3cret".utf8))

        settings.keyType = .ed25519
        try write("not a key", to: directory.file(BinanceCredentials.ed25519KeyFile), mode: 0o600)
        let bad = #expect(throws: BinanceCredentials.Missing.self) { try BinanceCredentials.load(settings, environment: [:]) }
        #expect(bad?.description.contains("not an Ed25519 private key") == true)

        // systemd's directory: its files are the service's own, whatever their mode says.
        settings.credentialsDir = ""
        // RFC 8032's first test key in PKCS #8 (RFC 8410: a fixed 16-byte prefix, then the 32 key bytes).
        let der = bytes(hex: "302e020100300506032b657004220420" + "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let pem = "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        try write(pem, to: directory.file(BinanceCredentials.ed25519KeyFile), mode: 0o644)
        guard case .ed25519(let key, _) = try BinanceCredentials.load(settings, environment: ["CREDENTIALS_DIRECTORY": directory.path]) else {
            Issue.record("an Ed25519 credential was expected")
            return
        }
        #expect(key == "my-api-key")
    }

    private func write(_ text: String, to path: String, mode: mode_t) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
    }
}
