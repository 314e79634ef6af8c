import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import BagbotDomain
import BagbotIPC
import RouterCore

// An order's round trip through routerd to the fake Binance, beside a bare signed request to the same fake, in one
// run (docs/performance.md, "Binance order round trip"; issue 14's benchmark). Both place a MARKET order of the same
// quantity that fills at once (`newOrderRespType=FULL`, a fresh client order id):
//   - bare: `POST /api/v3/order`, signed with HMAC-SHA256 (`BinanceSigning`, the key read once), sent with
//     AsyncHTTPClient on a kept-alive connection, its answer read and checked (HTTP 200, FILLED, the id sent): what any
//     client must do at least;
//   - routerd: `router.placeOrder` over IPC to a release routerd in `router.mode: live` on the same fake, answered
//     `filled`: checks, the order stored and recorded `sent` (one synced transaction), signed, sent through the
//     request gate, the answer decoded and recorded with its fill, events published.
// Both run from one task on one event loop that holds the IPC connection and the HTTP connection (as arsenald calls
// routerd), interleaved call by call (which goes first alternates), so both see the same machine and the same fake.
// Each round runs at every pace of `--pause-ms` in turn (by default back to back and 25 ms after each order; which
// pace goes first alternates), and each pace has its own tables: on a VM that lets idle vCPUs halt, the pause alone
// changes what the wake-ups and the sync of an order cost (docs/performance.md, "2026-12-07: the pause between
// orders"). Any answer but a fill aborts the run.
// With `--socket-b`, a second routerd (another build, on the same fake) is a third variant in the same interleaving,
// so two builds are compared call by call in one run rather than in runs an hour's drift apart.
// Each round's p50/p90/p99 per variant and the difference of the p50s go to stdout as Markdown, progress to stderr.
// `scripts/bench-binance` starts the fake and routerd and runs this.

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

/// A bare client: the least an order to Binance takes.
struct BareOrders: Sendable {
    let http: HTTPClient
    let restURL: String
    let credential: BinanceCredential

    /// The fields of the FULL answer this client checks.
    struct Answer: Decodable {
        var clientOrderId: String
        var status: String
    }

    func place(clientOrderId: String, symbol: String, side: Side, quantity: String) async throws {
        let parameters: [(name: String, value: String)] = [
            ("symbol", symbol), ("side", side == .buy ? "BUY" : "SELL"), ("type", "MARKET"), ("quantity", quantity),
            ("newClientOrderId", clientOrderId), ("newOrderRespType", "FULL"),
        ]
        let query = try BinanceSigning.signedQuery(parameters, timestampMilliseconds: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)),
                                                   recvWindowMilliseconds: 5_000, with: credential)
        var request = HTTPClientRequest(url: restURL + "/api/v3/order?" + query)
        request.method = .POST
        request.headers.add(name: "X-MBX-APIKEY", value: credential.apiKey)
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw BenchmarkFailure(description: "bare order \(clientOrderId): the fake answered \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        let answer = try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
        guard answer.clientOrderId == clientOrderId, answer.status == "FILLED" else {
            throw BenchmarkFailure(description: "bare order \(clientOrderId): answered \(answer.status) for \(answer.clientOrderId), not a fill")
        }
    }
}

/// One round's round trips of each variant.
struct Round {
    var bare: Timings
    var routerd: Timings
    /// The second routerd's (`--socket-b`), if there is one.
    var routerdB: Timings?
}

/// The two ways of placing the same order, timed.
struct Orders: Sendable {
    let bare: BareOrders
    let routerd: IPCClient
    let routerdB: IPCClient?
    let symbol: String
    let quantity: String
    let amount: ExactDecimal
    /// Part of every client order id, so that runs against one fake never reuse an id.
    let run: String

    /// `calls` orders each way, interleaved call by call, each followed by `pause`. Buys and sells alternate (the
    /// account's BTC never goes below zero); the variants' order changes every two calls through all its
    /// permutations, so each follows each other as often: with three, a rotation (bare, A, B), (A, B, bare),
    /// (B, bare, A) put B right after A in two calls of three, and B came out 76–86 µs faster than A with the same
    /// binary in both (docs/performance.md). `first` numbers the orders (ids are never reused).
    func round(first number: Int, calls: Int, pause: Duration) async throws -> Round {
        let variants = routerdB == nil ? 2 : 3
        let orders = Self.permutations(of: Array(0..<variants))
        var times: [[Double]] = Array(repeating: [], count: variants)
        for call in 0..<calls {
            let side: Side = call % 2 == 0 ? .buy : .sell
            for variant in orders[(call / 2) % orders.count] {
                switch variant {
                case 0: times[0].append(try await placeBare(number + call, side))
                case 1: times[1].append(try await placeThroughRouterd(number + call, side, at: routerd, tag: "r"))
                default: times[2].append(try await placeThroughRouterd(number + call, side, at: routerdB!, tag: "s"))
                }
                if pause > .zero { try await Task.sleep(for: pause) }
            }
        }
        return Round(bare: Timings(times[0]), routerd: Timings(times[1]), routerdB: variants == 3 ? Timings(times[2]) : nil)
    }

    /// Every order of `items` (6 for three, 2 for two).
    static func permutations(of items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index in
            var rest = items
            let head = rest.remove(at: index)
            return permutations(of: rest).map { [head] + $0 }
        }
    }

    /// µs from the call to the checked answer.
    func placeBare(_ number: Int, _ side: Side) async throws -> Double {
        let start = ContinuousClock.now
        try await bare.place(clientOrderId: "bench-b-\(run)-\(number)", symbol: symbol, side: side, quantity: quantity)
        return (ContinuousClock.now - start).microseconds
    }

    func placeThroughRouterd(_ number: Int, _ side: Side, at routerd: IPCClient, tag: String) async throws -> Double {
        let id = "bench-\(tag)-\(run)-\(number)"
        let request = PlaceOrderRequest(clientOrderId: id, symbol: symbol, side: side, quantity: amount, strategyId: "bench", requestId: id)
        let start = ContinuousClock.now
        let order: OrderRecord
        do {
            order = try await routerd.call(Methods.routerPlaceOrder, request, timeout: .seconds(30))
        } catch {
            throw BenchmarkFailure(description: "routerd order \(id): \(error)")
        }
        let elapsed = (ContinuousClock.now - start).microseconds
        guard order.clientOrderId == id, order.venue == .binance, order.status == .filled else {
            throw BenchmarkFailure(description: "routerd order \(id) at \(order.venue.rawValue) is \(order.status.rawValue), not filled: \(order.rejectReason ?? "no reason")")
        }
        return elapsed
    }
}

/// One variant's round trips in one round, in µs, and their percentiles (nearest rank).
struct Timings {
    let sorted: [Double]

    init(_ values: [Double]) { sorted = values.sorted() }

    func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
    var p50: Double { at(0.5) }
    var p90: Double { at(0.9) }
    var p99: Double { at(0.99) }
}

extension Array where Element == Double {
    var middle: Double {
        let sorted = sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension Duration {
    var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
}

/// The command line: `--name value` pairs (scripts/bench-binance passes them).
struct Options {
    var socket = ""
    var socketB: String?
    var restURL = ""
    var credentials = ""
    var rounds = 9
    var calls = 200
    var pausesMs = [0, 25]
    var quantity = "0.0002"
    var symbol = "BTCUSDT"

    static let usage = """
        binance-benchmark --socket ROUTERD_SOCKET --rest-url http://127.0.0.1:PORT --credentials DIR [--socket-b ROUTERD_SOCKET]
                          [--rounds 9] [--calls 200] [--pause-ms 0,25] [--quantity 0.0002] [--symbol BTCUSDT]
          --socket-b: a second routerd (another build) on the same fake, timed in the same interleaving as the first
          --credentials: the directory of binance-api-key and binance-hmac-secret (routerd's credentials_dir)
          --rounds: timed rounds, after one warm-up round; --calls: orders per variant per round
          --pause-ms: the paces, in ms of pause after each order (0: back to back), each timed in every round with
                      tables of its own
        """

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        while let name = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchmarkFailure(description: "\(name) needs a value\n\(Self.usage)") }
            func number() throws -> Int {
                guard let number = Int(value), number >= 0 else { throw BenchmarkFailure(description: "\(name) needs a whole number, not \(value)") }
                return number
            }
            switch name {
            case "--socket": socket = value
            case "--socket-b": socketB = value
            case "--rest-url": restURL = value.hasSuffix("/") ? String(value.dropLast()) : value
            case "--credentials": credentials = value
            case "--rounds": rounds = try number()
            case "--calls": calls = try number()
            case "--pause-ms":
                let paces = value.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !paces.isEmpty, paces.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                    throw BenchmarkFailure(description: "--pause-ms needs whole numbers of ms, separated by commas, not \(value)")
                }
                pausesMs = paces.compactMap { $0 }
            case "--quantity": quantity = value
            case "--symbol": symbol = value
            default: throw BenchmarkFailure(description: "unknown option \(name)\n\(Self.usage)")
            }
        }
        guard !socket.isEmpty, !restURL.isEmpty, !credentials.isEmpty else {
            throw BenchmarkFailure(description: "--socket, --rest-url and --credentials are needed\n\(Self.usage)")
        }
    }
}

@main
struct BinanceBenchmark {
    let options: Options
    var rounds: Int { options.rounds }
    var calls: Int { options.calls }
    var quantity: String { options.quantity }
    var symbol: String { options.symbol }

    static func main() async {
        do {
            try await BinanceBenchmark(options: Options(CommandLine.arguments.dropFirst())).measure()
        } catch {
            FileHandle.standardError.write(Data("binance-benchmark: FAILED: \(error)\n".utf8))
            exit(1)
        }
    }

    func measure() async throws {
        guard rounds >= 1, calls >= 2, let amount = ExactDecimal(quantity), amount.isPositive else {
            throw BenchmarkFailure(description: "--rounds ≥ 1, --calls ≥ 2 and a positive --quantity, please")
        }
        var logger = Logger(label: "binance-benchmark")
        logger.logLevel = .critical
        var settings = BinanceSettings()
        settings.keyType = .hmac
        settings.credentialsDir = options.credentials
        let credential = try BinanceCredentials.load(settings)

        // One loop for both connections; the measuring task runs on it (no thread hop for either variant).
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var httpConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30)))
        httpConfiguration.httpVersion = .http1Only
        httpConfiguration.tracing.tracer = nil  // as routerd's client: no span per request
        let http = HTTPClient(eventLoopGroup: group, configuration: httpConfiguration)
        func connected(_ socket: String) async throws -> IPCClient {
            let client = IPCClient(ownService: "arsenald", peerService: "routerd",
                                   configuration: IPCClientConfiguration(socketPath: socket, requestTimeout: .seconds(30)), logger: logger, group: group)
            client.start()
            let deadline = ContinuousClock.now + .seconds(60)
            while !client.isConnected {
                guard ContinuousClock.now < deadline else { throw BenchmarkFailure(description: "routerd at \(socket) did not answer within 60 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            return client
        }
        let client = try await connected(options.socket)
        var clientB: IPCClient?
        if let socketB = options.socketB { clientB = try await connected(socketB) }
        let orders = Orders(bare: BareOrders(http: http, restURL: options.restURL, credential: credential), routerd: client, routerdB: clientB, symbol: symbol,
                            quantity: quantity, amount: amount, run: String(UInt32.random(in: 0...UInt32.max), radix: 36))
        let paces = options.pausesMs
        var rows: [[Round]] = Array(repeating: [], count: paces.count)
        for round in 0...rounds {
            // The paces take turns at going first, so that none always follows another's pause.
            for turn in 0..<paces.count {
                let pace = (round + turn) % paces.count
                let pauseMs = paces[pace]
                let first = (round * paces.count + pace) * calls
                let row = try await withTaskExecutorPreference(client.executor) {
                    try await orders.round(first: first, calls: calls, pause: .milliseconds(pauseMs))
                }
                FileHandle.standardError.write(Data(String(
                    format: "%@ %d, pause %d ms: bare p50 %.0f µs (p99 %.0f), routerd p50 %.0f µs (p99 %.0f), overhead %.0f µs\n",
                    round == 0 ? "warm-up" : "round", round, pauseMs, row.bare.p50, row.bare.p99, row.routerd.p50, row.routerd.p99,
                    row.routerd.p50 - row.bare.p50).utf8))
                if let b = row.routerdB {
                    FileHandle.standardError.write(Data(String(format: "  routerd B p50 %.0f µs (p99 %.0f), overhead %.0f µs, B − A %.0f µs\n",
                                                               b.p50, b.p99, b.p50 - row.bare.p50, b.p50 - row.routerd.p50).utf8))
                }
                if round > 0 { rows[pace].append(row) }  // the first round warms up
            }
        }
        await client.shutdown()
        await clientB?.shutdown()
        try await http.shutdown()
        try await group.shutdownGracefully()
        for (pace, pauseMs) in paces.enumerated() {
            let paced = rows[pace]
            if pace > 0 { print() }
            report(paced, pauseMs: pauseMs, pooled: Round(bare: Timings(paced.flatMap(\.bare.sorted)), routerd: Timings(paced.flatMap(\.routerd.sorted))))
            if clientB != nil { compare(paced, pauseMs: pauseMs) }
        }
    }

    /// The second routerd beside the first, round by round: what the other build changes, measured call by call.
    func compare(_ rows: [Round], pauseMs: Int) {
        func f(_ value: Double) -> String { String(format: "%.0f", value) }
        let pairs = rows.compactMap { row in row.routerdB.map { (bare: row.bare, a: row.routerd, b: $0) } }
        print()
        print("Two routerds in the same interleaving (A: `--socket`, B: `--socket-b`), \(Self.pace(pauseMs)), µs")
        print()
        print("| round | bare p50 | A p50 | B p50 | A overhead | B overhead | B − A (p50) | A p90 | B p90 |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for (index, pair) in pairs.enumerated() {
            print("| \(index + 1) | \(f(pair.bare.p50)) | \(f(pair.a.p50)) | \(f(pair.b.p50)) | \(f(pair.a.p50 - pair.bare.p50)) |"
                + " \(f(pair.b.p50 - pair.bare.p50)) | \(f(pair.b.p50 - pair.a.p50)) | \(f(pair.a.p90)) | \(f(pair.b.p90)) |")
        }
        let differences = pairs.map { $0.b.p50 - $0.a.p50 }
        print("| **median of rounds** | | | | \(f(pairs.map { $0.a.p50 - $0.bare.p50 }.middle)) | \(f(pairs.map { $0.b.p50 - $0.bare.p50 }.middle)) |"
            + " **\(f(differences.middle))** (B faster in \(differences.filter { $0 < 0 }.count) of \(differences.count)) | | |")
    }

    static func pace(_ pauseMs: Int) -> String {
        pauseMs > 0 ? "\(pauseMs) ms pause after each order" : "back to back"
    }

    func report(_ rows: [Round], pauseMs: Int, pooled: Round) {
        func f(_ value: Double) -> String { String(format: "%.0f", value) }
        print("Binance order round trip, \(Self.pace(pauseMs)): \(rows.count) rounds of \(calls) orders each way (interleaved), µs")
        print()
        print("| round | bare p50 | p90 | p99 | routerd p50 | p90 | p99 | overhead (p50 − p50) | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for (index, row) in rows.enumerated() {
            print("| \(index + 1) | \(f(row.bare.p50)) | \(f(row.bare.p90)) | \(f(row.bare.p99)) | \(f(row.routerd.p50)) | \(f(row.routerd.p90)) |"
                + " \(f(row.routerd.p99)) | \(f(row.routerd.p50 - row.bare.p50)) | \(String(format: "%.2f", row.routerd.p50 / row.bare.p50)) |")
        }
        let overheads = rows.map { $0.routerd.p50 - $0.bare.p50 }
        let ratios = rows.map { $0.routerd.p50 / $0.bare.p50 }
        print()
        print("| variant | p50 µs | p90 µs | p99 µs | p50 per round, min–max | all \(rows.count * calls) calls pooled: p50 / p90 / p99 |")
        print("| --- | --- | --- | --- | --- | --- |")
        for (name, pick, all) in [("bare AsyncHTTPClient POST /api/v3/order", { (row: Round) in row.bare }, pooled.bare),
                                  ("routerd router.placeOrder (live, Binance)", { $0.routerd }, pooled.routerd)] {
            let timings = rows.map(pick)
            print("| \(name) | \(f(timings.map(\.p50).middle)) | \(f(timings.map(\.p90).middle)) | \(f(timings.map(\.p99).middle)) |"
                + " \(f(timings.map(\.p50).min() ?? 0))–\(f(timings.map(\.p50).max() ?? 0)) | \(f(all.p50)) / \(f(all.p90)) / \(f(all.p99)) |")
        }
        print("| **overhead** (routerd p50 − bare p50, per round) | **\(f(overheads.middle))** | | | \(f(overheads.min() ?? 0))–\(f(overheads.max() ?? 0)) |"
            + " \(f(pooled.routerd.p50 - pooled.bare.p50)) |")
        print("| ratio (routerd p50 ÷ bare p50) | \(String(format: "%.2f", ratios.middle)) | | | \(String(format: "%.2f–%.2f", ratios.min() ?? 0, ratios.max() ?? 0)) |"
            + " \(String(format: "%.2f", pooled.routerd.p50 / pooled.bare.p50)) |")
        print()
        print("Target (issue 14), \(Self.pace(pauseMs)): overhead ≤ 1000 µs at p50: \(overheads.middle <= 1_000 ? "met" : "NOT met")"
            + " (median of rounds \(f(overheads.middle)) µs).")
    }
}
