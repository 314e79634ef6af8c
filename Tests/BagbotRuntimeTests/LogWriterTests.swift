#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import BagbotRuntime

@Suite("Log lines are written by a thread of their own")
struct LogWriterTests {
    @Test("a caller is never blocked by standard error that nobody reads; lost lines are counted and reported")
    func neverBlocksTheCaller() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = LogWriter(descriptor: fds[1], capacity: 50)
        let line = String(repeating: "x", count: 999) + "\n"
        // 2 MB into a pipe that holds 64 KB and is not read: a blocking logger would hang here for good.
        for _ in 0..<2_000 { writer.enqueue(line) }
        #expect(writer.droppedTotal > 0)

        // Once the pipe is read, every line comes out or is accounted for by a warning (one per batch that
        // lost lines: the writer may drain between drops).
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var written = 0
        var reportedLost = 0
        let deadline = Date(timeIntervalSinceNow: 20)
        while written + reportedLost < 2_000, Date() < deadline {
            let got = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress!, $0.count) }
            guard got > 0 else { break }
            received.append(contentsOf: buffer[0..<got])
            let lines = String(decoding: received, as: UTF8.self).split(separator: "\n")
            written = lines.filter { $0.hasPrefix("xxx") }.count
            reportedLost = lines.compactMap { line -> Int? in
                guard let range = line.range(of: " log lines were dropped") else { return nil }
                return Int(line[..<range.lowerBound].split(separator: " ").last ?? "")
            }.reduce(0, +)
        }
        #expect(reportedLost == writer.droppedTotal)
        #expect(written + writer.droppedTotal == 2_000)
        writer.flush()
    }

    @Test("flush waits until queued lines are written")
    func flushWaitsForTheQueue() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = LogWriter(descriptor: fds[1], capacity: 1_000)
        for index in 0..<100 { writer.enqueue("line \(index)\n") }
        writer.flush()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let got = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress!, $0.count) }
        let text = String(decoding: buffer[0..<max(got, 0)], as: UTF8.self)
        #expect(text.split(separator: "\n").count == 100)
        #expect(text.hasSuffix("line 99\n"))
    }
}
