#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix

// ipc-benchmark: the IPC layer against a raw Unix-socket ping-pong, in release mode (scripts/bench-ipc).
//
//   ipc-benchmark [--runs 3] [--round-trips 20000] [--pipelined 100000] [--windows 256,1024] [--busy-poll-us 200] [--quick]
//
// The roles below are this same executable re-executed as child processes; they are not meant to be
// started by hand.

let arguments = CommandLine.arguments
let role = arguments.count > 1 ? arguments[1] : ""

func argument(_ index: Int) -> String {
    guard arguments.count > index else { die("\(role): missing argument \(index)") }
    return arguments[index]
}

func integer(_ index: Int) -> Int {
    guard let value = Int(argument(index)) else { die("\(role): argument \(index) is not a number") }
    return value
}

func printReport(_ report: ClientReport) {
    let data = try! JSONEncoder().encode(report)
    print(String(decoding: data, as: UTF8.self))
}

switch role {
case "raw-server":
    RawBenchmark.serve(path: argument(2))

case "nio-echo-server":
    RawBenchmark.serveNIOEcho(path: argument(2))

case "raw-client":
    // raw-client PATH WARMUP ROUND_TRIPS STREAMED HELLO [block|epoll|spin]
    guard let wait = RawBenchmark.FrameReader.Wait(rawValue: arguments.count > 7 ? arguments[7] : "block") else {
        die("raw-client: the wait mode is block, epoll or spin")
    }
    printReport(RawBenchmark.client(
        path: argument(2), warmup: integer(3), roundTrips: integer(4), streamed: integer(5), hello: integer(6) == 1,
        wait: wait))

case "nio-client":
    // nio-client PATH WARMUP ROUND_TRIPS
    printReport(NIOClientBenchmark.client(path: argument(2), warmup: integer(3), roundTrips: integer(4)))

case "coding-cost":
    // coding-cost: only the JSON work per call (for profiling the codec in one thread)
    let cost = CodingCost.microsecondsPerCall(iterations: 100_000, foundationToo: false)
    print(String(format: "JSON work per call: %.2f µs now, %.2f µs all through Foundation", cost.now, cost.foundation))

case "ipc-server":
    IPCRoles.serve(path: argument(2))

case "ipc-client":
    // ipc-client PATH METHOD EXECUTOR WARMUP ROUND_TRIPS PIPELINED WINDOWS BUSY_POLL_MICROSECONDS
    let path = argument(2)
    let method = argument(3)
    let warmup = integer(5)
    let roundTrips = integer(6)
    let pipelined = integer(7)
    let windows = argument(8).split(separator: ",").compactMap { Int($0) }
    let onClientLoop = argument(4) == "client-loop"
    let busyPoll = Duration.microseconds(integer(9))
    let report = runBlocking {
        try await IPCRoles.client(
            path: path, method: method, onClientLoop: onClientLoop, busyPoll: busyPoll, warmup: warmup,
            roundTrips: roundTrips, pipelined: pipelined, windows: windows)
    }
    printReport(report)

default:
    Coordinator(options: Coordinator.parse(arguments.dropFirst())).run()
}
