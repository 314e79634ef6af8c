import Foundation
import NIOCore
import Testing
@testable import BagbotIPC

/// The rules the IPC adds to JSON: no key twice in an object, `v` and `id` integers, `protocol` MAJOR.MINOR.
@Suite("Envelope rules: duplicate keys, integer v and id, protocol versions")
struct EnvelopeRulesTests {
    private func keyCheck(_ text: String) -> JSONKeyCheck.Outcome {
        Array(text.utf8).withUnsafeBytes { JSONKeyCheck.check($0) }
    }

    private func duplicate(_ text: String) -> String? {
        if case .duplicate(let key, let path) = keyCheck(text) { return "\(key) at \(path)" }
        return nil
    }

    @Test("the fast path's tape declines any object with a repeated, escaped or non-ASCII key, even unread")
    func tapeDeclines() {
        func parses(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { JSONTape.parse($0) != nil } }
        #expect(parses(#"{"a":1,"b":{"c":[{"d":1,"e":2}]}}"#))
        #expect(!parses(#"{"a":1,"a":1}"#))
        #expect(!parses(#"{"a":1,"b":{"c":[{"d":1,"d":2}]}}"#))
        #expect(!parses(#"{"a":1,"\u0061":1}"#))
        #expect(!parses(#"{"é":1}"#))
        // the set used for large objects finds the same
        let many = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(parses("{\(many)}"))
        #expect(!parses("{\(many),\"k7\":0}"))
        // and a large object with every key the same length stays quick (set, not pairs)
        let hostile = "{" + (0..<256).map { String(format: "\"%04d\":0", $0) }.joined(separator: ",") + "}"
        #expect(parses(hostile))
    }

    @Test("the strict check finds a repeated key anywhere, compared as JSONDecoder compares keys")
    func strictCheck() {
        #expect(duplicate(#"{"a":1,"b":2}"#) == nil)
        #expect(duplicate(#"{"v":1,"v":2}"#) == "v at top level")
        #expect(duplicate(#"{"v":1,"\u0076":2}"#) == "v at top level")
        #expect(duplicate(#"{"a":{"b":[1,{"c":1,"c":2}]}}"#) == "c at a.b[1]")
        #expect(duplicate(#"[{"x":1},{"y":1,"y":1}]"#) == "y at [1]")
        // "é" precomposed and decomposed are one String key for JSONDecoder
        #expect(duplicate("{\"\u{E9}\":1,\"e\u{301}\":2}") != nil)
        if case .unreadable = keyCheck(#"{"a":1,}"#) {} else { Issue.record("a trailing comma is not strict JSON") }
    }

    @Test("MAJOR.MINOR in decimal digits is the only protocol form", arguments: [
        ("1.0", true), ("1.7", true), ("12.345", true), ("01.0", true),
        ("1", false), ("1.x", false), ("1.", false), (".0", false), ("1.0.0", false), (" 1.0", false),
        ("1.0 ", false), ("+1.0", false), ("-1.0", false), ("１.0", false), ("", false), ("1.0e0", false),
        ("9999999999.0", false),
    ])
    func protocolVersions(text: String, valid: Bool) {
        #expect((IPCProtocol.parseVersion(text) != nil) == valid)
        #expect((HelloBody(service: "x", protocol: text).majorVersion != nil) == valid)
    }
}
