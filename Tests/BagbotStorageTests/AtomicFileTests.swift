import Foundation
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import BagbotStorage

private struct SampleState: Codable, Equatable {
    var name: String
    var count: Int
    var at: Date
}

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("a JSON state file reads back as written, and a rewrite replaces it whole")
    func roundTrip() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = directory.file("state/sample.json")
        let first = SampleState(name: "first", count: 1, at: Date(timeIntervalSince1970: 1_700_000_000))
        try AtomicFile.writeJSON(first, to: path)
        #expect(try AtomicFile.readJSON(SampleState.self, from: path) == first)

        let second = SampleState(name: "second", count: 2, at: Date(timeIntervalSince1970: 1_700_000_100))
        try AtomicFile.writeJSON(second, to: path)
        #expect(try AtomicFile.readJSON(SampleState.self, from: path) == second)
        // no temporary files left behind
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.file("state"))
        #expect(names == ["sample.json"])
    }

    @Test("money in a state file written before it was exact (a JSON number) reads back by its digits")
    func legacyNumbersInStateFiles() throws {
        struct Money: Codable, Equatable { var pnl: ExactDecimal; var limit: ExactDecimal? }
        let directory = try TempDir()
        let legacy = try directory.write("legacy.json", #"{"pnl": -12.35, "limit": 1000}"#)
        #expect(try AtomicFile.readJSON(Money.self, from: legacy) == Money(pnl: ExactDecimal("-12.35")!, limit: 1_000))
        let current = directory.file("current.json")
        try AtomicFile.writeJSON(Money(pnl: ExactDecimal("0.10")!, limit: nil), to: current)
        #expect(try String(contentsOfFile: current, encoding: .utf8).contains(#""0.10""#), "written as an exact string")
        #expect(try AtomicFile.readJSON(Money.self, from: current)?.pnl.description == "0.10")
    }

    @Test("a missing file reads as nil")
    func missing() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        #expect(try AtomicFile.readJSON(SampleState.self, from: directory.file("none.json")) == nil)
    }

    @Test("a corrupt file is moved aside and reported as CorruptStateFile")
    func corrupt() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = directory.file("sample.json")
        let garbage = Data(#"{"name": "half a fi"#.utf8)
        try AtomicFile.write(garbage, to: path)
        var caught: CorruptStateFile?
        do {
            _ = try AtomicFile.readJSON(SampleState.self, from: path)
        } catch let error as CorruptStateFile {
            caught = error
        }
        let error = try #require(caught)
        #expect(error.path == path)
        #expect(error.movedTo != path)
        #expect(error.movedTo.hasPrefix(path + ".corrupt-"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(FileManager.default.contents(atPath: error.movedTo) == garbage)
        #expect(error.description.contains(error.movedTo))
        // the next read sees no file, so the caller decides on a state rather than reading garbage again
        #expect(try AtomicFile.readJSON(SampleState.self, from: path) == nil)
    }

    @Test("a file of the wrong shape is corrupt too, with the reason naming the key")
    func wrongShape() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = directory.file("sample.json")
        try AtomicFile.write(Data(#"{"name": "x", "count": "three", "at": "2024-01-01T00:00:00Z"}"#.utf8), to: path)
        #expect {
            _ = try AtomicFile.readJSON(SampleState.self, from: path)
        } throws: { error in
            (error as? CorruptStateFile)?.reason.contains("count") == true
        }
    }
}
