#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import BagbotIPC

let quietLogger = Logger(label: "ipc-benchmark") { _ in SwiftLogNoOpLogHandler() }

/// The IPC layer as the daemons use it: an `IPCServer` with a synchronous `bench.echo` (and an
/// asynchronous `bench.echoAsync`) in one process, an `IPCClient` in another.
enum IPCRoles {
    static let serviceName = "bench-server"

    /// `ipc-server PATH`: serve until killed.
    static func serve(path: String) -> Never {
        let server = IPCServer(
            serviceName: serviceName,
            configuration: IPCServerConfiguration(socketPath: path, socketMode: 0o600),
            logger: quietLogger)
        server.registry.registerSync("bench.echo", BenchPayload.self) { payload, _ in payload }
        server.registry.register("bench.echoAsync", BenchPayload.self) { payload, _ in payload }
        runBlocking { try await server.start() }
        announceReady()
        while true { pause() }
    }

    /// `ipc-client PATH`: sequential calls for latency, then calls kept `window` deep in flight.
    static func client(
        path: String, method: String, onClientLoop: Bool, busyPoll: Duration, warmup: Int, roundTrips: Int,
        pipelined: Int, windows: [Int]
    ) async throws -> ClientReport {
        let client = IPCClient(
            ownService: "bench-client", peerService: serviceName,
            configuration: IPCClientConfiguration(socketPath: path, requestTimeout: .seconds(120), replyBusyPoll: busyPoll),
            logger: quietLogger)
        client.start()
        let deadline = ContinuousClock.now + .seconds(30)
        while !client.isConnected {
            guard ContinuousClock.now < deadline else { die("client did not connect to \(path)") }
            try await Task.sleep(for: .milliseconds(1))
        }

        guard onClientLoop else {
            return try await measure(client, method: method, warmup: warmup, roundTrips: roundTrips, pipelined: pipelined, windows: windows)
        }
        // The calling task (and the task group's children) run on the client's own event loop.
        return try await withTaskExecutorPreference(client.executor) {
            try await measure(client, method: method, warmup: warmup, roundTrips: roundTrips, pipelined: pipelined, windows: windows)
        }
    }

    static func measure(
        _ client: IPCClient, method: String, warmup: Int, roundTrips: Int, pipelined: Int, windows: [Int]
    ) async throws -> ClientReport {
        var latencies = Latencies(capacity: roundTrips)
        for index in 0..<(warmup + roundTrips) {
            let payload = BenchPayload.number(index)
            let start = nowNanos()
            let reply = try await client.call(method, payload, as: BenchPayload.self)
            let end = nowNanos()
            guard reply == payload else { die("echo returned another payload") }
            if index >= warmup { latencies.add(end - start) }
        }

        var throughput: [String: Double] = [:]
        for window in windows {
            _ = try await keepInFlight(client, method: method, total: min(pipelined, 10_000), window: window)  // warm-up
            throughput["window \(window)"] = try await keepInFlight(client, method: method, total: pipelined, window: window)
        }
        await client.shutdown()
        return ClientReport(roundTrip: latencies.summary(), throughput: throughput, cpus: allowedCPUs())
    }

    /// Issues `total` calls from `window` concurrent callers on the one connection, each making its calls
    /// one after another (so `window` calls are in flight at all times, as with that many busy tasks in a
    /// daemon); returns calls per second.
    static func keepInFlight(_ client: IPCClient, method: String, total: Int, window: Int) async throws -> Double {
        let callers = min(window, total)
        let start = nowNanos()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var index = caller
                    while index < total {
                        let payload = BenchPayload.number(index)
                        guard try await client.call(method, payload, as: BenchPayload.self) == payload else {
                            die("a pipelined call got another call's answer")
                        }
                        index += callers
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(total) / (Double(nowNanos() - start) / 1e9)
    }
}

/// Where the per-request CPU goes, measured in this process without sockets: the JSON work one call
/// costs on both sides (client encode, server decode and reply encode, client decode).
enum CodingCost {
    struct Outgoing<Body: Encodable>: Encodable {
        var v = 1
        var id: UInt64?
        var type: String
        var method: String?
        var body: Body
    }

    struct BodyOnly<Body: Decodable>: Decodable {
        var body: Body?
    }

    /// Microseconds of JSON work per call, median of 5 batches: all through Foundation's coders (the
    /// whole envelope encoded, the envelope decoded and then the body, as the IPC layer first did) and as
    /// the IPC layer does it now (`IPCCoding.frame` and `IPCClient.decodeEvent`: envelope fields written and
    /// scanned by hand, bodies through FastJSON).
    static func microsecondsPerCall(iterations: Int = 20_000, foundationToo: Bool = true) -> (foundation: Double, now: Double) {
        var foundation: [Double] = []
        var now: [Double] = []
        let encoder = IPCCoding.makeEncoder()
        let decoder = IPCCoding.makeDecoder()
        for _ in 0..<5 {
            var start = nowNanos()
            for index in 0..<(foundationToo ? iterations : 0) {
                let request = try! encoder.encode(
                    Outgoing(id: UInt64(index), type: "request", method: "bench.echo", body: BenchPayload.number(index)))
                let header = try! decoder.decode(EnvelopeHeader.self, from: request)
                let body = try! decoder.decode(BodyOnly<BenchPayload>.self, from: request).body!
                let response = try! encoder.encode(Outgoing(id: header.id, type: "response", method: header.method, body: body))
                _ = try! decoder.decode(EnvelopeHeader.self, from: response)
                _ = try! decoder.decode(BodyOnly<BenchPayload>.self, from: response)
            }
            foundation.append(Double(nowNanos() - start) / Double(iterations) / 1_000)

            start = nowNanos()
            for index in 0..<iterations {
                let request = try! IPCCoding.frame(
                    id: UInt64(index), type: .request, method: "bench.echo", body: BenchPayload.number(index), encoder: encoder)
                let body = try! IPCClient.decodeEvent(BenchPayload.self, from: request)
                let response = try! IPCCoding.frame(id: UInt64(index), type: .response, method: "bench.echo", body: body, encoder: encoder)
                _ = try! IPCClient.decodeEvent(BenchPayload.self, from: response)
            }
            now.append(Double(nowNanos() - start) / Double(iterations) / 1_000)
        }
        return (foundationToo ? median(foundation) : .nan, median(now))
    }
}
