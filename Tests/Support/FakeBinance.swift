import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The fake Binance of `Tests/Peers/fake_binance.py` (its README has the control API), run as a child process on
/// 127.0.0.1: it speaks Binance's wire protocol, checks signatures, filters and limits the way Binance does, and
/// keeps a log of every request it received, the witness of what BAGBOT sent.
public final class FakeBinance: @unchecked Sendable {
    public static let apiKey = "bagbot-test-api-key"
    public static let hmacSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

    public let port: Int
    private let process: ChildProcess
    private let directory: TempDir

    public var restURL: String { "http://127.0.0.1:\(port)" }
    public var marketStreamURL: String { "ws://127.0.0.1:\(port)" }
    public var webSocketAPIURL: String { "ws://127.0.0.1:\(port)/ws-api/v3" }

    /// Starts a fake with the given symbols and balances and waits until it listens. `ed25519PublicKey`: the API key is
    /// an Ed25519 one with this raw public key (the fake verifies its signatures), not the HMAC secret.
    public static func start(symbols: [String] = ["BTCUSDT", "ETHUSDT"], balances: String = "USDT=10000,BTC=0,ETH=0",
                             ed25519PublicKey: [UInt8]? = nil) async throws -> FakeBinance {
        let directory = try TempDir()
        let portFile = directory.file("port")
        var key = ["--hmac-secret", hmacSecret]
        if let ed25519PublicKey {
            // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): a fixed 12-byte prefix, then the 32 raw bytes.
            let der = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] + ed25519PublicKey
            let pem = "-----BEGIN PUBLIC KEY-----\n\(Data(der).base64EncodedString())\n-----END PUBLIC KEY-----\n"
            try pem.write(toFile: directory.file("ed25519.pub"), atomically: true, encoding: .utf8)
            key = ["--ed25519-public-key", directory.file("ed25519.pub")]
        }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: try TestPeers.python)
        process.arguments = [TestPeers.directory + "/fake_binance.py", "--port-file", portFile, "--port", "0",
                             "--api-key", apiKey] + key + ["--symbols", symbols.joined(separator: ","),
                             "--balances", balances, "--log", directory.file("fake.log")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Python with aiohttp and cryptography can take many seconds to start on a loaded 2-core machine.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return FakeBinance(port: port, process: process, directory: directory)
            }
            guard process.isRunning else {
                let log = (try? String(contentsOfFile: directory.file("fake.log"), encoding: .utf8)) ?? ""
                directory.remove()
                throw FakeBinanceError(description: "the fake Binance exited (status \(process.terminationStatus)): \(log.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        directory.remove()
        throw FakeBinanceError(description: "the fake Binance did not listen within 90 s")
    }

    private init(port: Int, process: ChildProcess, directory: TempDir) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// SIGTERM, then SIGKILL after 5 s; never waits on Foundation's `waitUntilExit` (it can spin forever).
    public func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        directory.remove()
    }

    /// What the fake logged (for a failing test's message).
    public var log: String { (try? String(contentsOfFile: directory.file("fake.log"), encoding: .utf8)) ?? "" }

    /// `POST /fake/<path>` with a JSON body; returns the answer's JSON.
    @discardableResult
    public func control(_ path: String, _ body: [String: Any] = [:]) async throws -> Any {
        try await call(.POST, "/fake/" + path, body: try JSONSerialization.data(withJSONObject: body))
    }

    /// `GET /fake/<path>`'s JSON.
    public func inspect(_ path: String) async throws -> Any {
        try await call(.GET, "/fake/" + path, body: nil)
    }

    /// Every request the fake received, oldest first (`GET /fake/requests`).
    public func requests() async throws -> [[String: Any]] {
        let answer = try await inspect("requests")
        if let list = answer as? [[String: Any]] { return list }
        if let object = answer as? [String: Any], let list = object["requests"] as? [[String: Any]] { return list }
        throw FakeBinanceError(description: "GET /fake/requests answered \(answer)")
    }

    /// Every order the fake holds, with its executions (`GET /fake/orders`).
    public func orders() async throws -> [[String: Any]] {
        let answer = try await inspect("orders")
        if let list = answer as? [[String: Any]] { return list }
        if let object = answer as? [String: Any], let list = object["orders"] as? [[String: Any]] { return list }
        throw FakeBinanceError(description: "GET /fake/orders answered \(answer)")
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> Any {
        var request = HTTPClientRequest(url: restURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = Data(Array(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024)))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw FakeBinanceError(description: "\(method) \(path) answered \(response.status.code): \(String(decoding: bytes, as: UTF8.self).prefix(500))")
        }
        return bytes.isEmpty ? [String: Any]() : try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
    }
}

public struct FakeBinanceError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
