#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers

/// Monotonic nanoseconds.
@inline(__always)
func nowNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ipc-benchmark: \(message)\n".utf8))
    exit(1)
}

/// Tells the coordinator (reading our stdout) that the server is listening; unbuffered on purpose.
func announceReady() {
    FileHandle.standardOutput.write(Data("ready\n".utf8))
}

func note(_ message: String) {
    FileHandle.standardError.write(Data("\(message)\n".utf8))
}

/// The body every benchmark request carries: about the size of a tick or a small order request.
struct BenchPayload: Codable, Sendable, Equatable {
    var seq: Int
    var symbol: String
    var price: Double
    var qty: Double

    static func number(_ seq: Int) -> BenchPayload {
        BenchPayload(seq: seq, symbol: "BTCUSDT", price: 64_123.5 + Double(seq % 100), qty: 0.015)
    }
}

/// A latency sample set, in nanoseconds.
struct Latencies {
    var samples: [UInt64] = []

    init(capacity: Int) {
        samples.reserveCapacity(capacity)
    }

    mutating func add(_ nanos: UInt64) { samples.append(nanos) }

    func summary() -> LatencySummary {
        let sorted = samples.sorted()
        func at(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let index = Int((Double(sorted.count - 1) * p).rounded())
            return Double(sorted[index]) / 1_000
        }
        let mean = sorted.isEmpty ? .nan : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1_000
        return LatencySummary(count: sorted.count, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), mean: mean)
    }
}

/// Round-trip percentiles in microseconds.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var mean: Double
}

/// What one client child measured; printed as one JSON line on its stdout.
struct ClientReport: Codable, Sendable {
    var roundTrip: LatencySummary
    /// label → operations per second
    var throughput: [String: Double]
    /// The CPUs the client was allowed to run on.
    var cpus: String
}

/// "0-1", "0", … from /proc/self/status.
func allowedCPUs() -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
    for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
        return line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
    }
    return "?"
}

/// Runs async work from synchronous code and waits for it (main.swift stays synchronous so that the
/// NIO executor can be installed before any Swift concurrency code has run).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T {
    let result = NIOLockedValueBox<Result<T, Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLockedValue { $0 = outcome }
        done.signal()
    }
    done.wait()
    switch result.withLockedValue({ $0 })! {
    case .success(let value): return value
    case .failure(let error): die("\(error)")
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.filter { !$0.isNaN }.sorted()
    guard !sorted.isEmpty else { return .nan }
    if sorted.count % 2 == 1 { return sorted[sorted.count / 2] }
    return (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Blocking Unix-socket helpers for the raw baseline.
enum RawSocketIO {
    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    static func listen(_ path: String) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { die("socket: \(String(cString: strerror(errno)))") }
        var address = address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { die("bind \(path): \(String(cString: strerror(errno)))") }
        guard Glibc.listen(fd, 16) == 0 else { die("listen: \(String(cString: strerror(errno)))") }
        return fd
    }

    static func connect(_ path: String) -> Int32 {
        for _ in 0..<5_000 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { die("socket: \(String(cString: strerror(errno)))") }
            var address = address(path)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if connected == 0 { return fd }
            close(fd)
            usleep(1_000)
        }
        die("cannot connect to \(path)")
    }

    static func writeAll(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) {
        var offset = 0
        while offset < count {
            let written = Glibc.write(fd, pointer + offset, count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                die("write: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
