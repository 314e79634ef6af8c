import Foundation
import BagbotDomain
import NIOCore
import NIOFoundationCompat

/// A received frame whose envelope fields have been read once. The body is decoded later, by the handler
/// or the waiting caller, from its own bytes only, so no frame is parsed as JSON more than once.
///
/// Foundation's JSONDecoder costs a few microseconds per call even for a tiny envelope, and the envelope
/// used to be decoded two or three times per message (header, then header and body again); reading the
/// envelope fields with a small scanner and decoding only the body roughly halved the CPU time of a call.
struct IncomingFrame: Sendable {
    enum Body: Sendable {
        /// No `body` key.
        case absent
        /// `"body": null`.
        case null
        /// The body's bytes, relative to the frame's reader index.
        case range(offset: Int, length: Int)
        /// The envelope was read by JSONDecoder (the scanner declined it): decode the body from the whole frame.
        case wholeFrame
    }

    let header: EnvelopeHeader
    let frame: ByteBuffer
    let body: Body

    /// Reads the envelope fields; throws JSONDecoder's `DecodingError` for a malformed envelope, and
    /// `IPCError(.badRequest)` for one JSONDecoder would accept against the IPC's rules (`EnvelopeCheck`).
    init(frame: ByteBuffer, decoder: JSONDecoder) throws {
        self.frame = frame
        if let scanned = frame.withUnsafeReadableBytes({ EnvelopeScanner.scan($0) }) {
            header = EnvelopeHeader(v: scanned.v, id: scanned.id, type: scanned.type, method: scanned.method, rid: scanned.rid)
            body = scanned.body
        } else {
            // Anything unusual (escapes, duplicate keys, malformed JSON, …) is checked against the rules
            // JSONDecoder does not enforce, then goes through JSONDecoder for the answer and error.
            switch frame.withUnsafeReadableBytes({ EnvelopeCheck.check($0) }) {
            case .refused(let error):
                throw error
            case .valid:
                header = try decoder.decode(EnvelopeHeader.self, from: frame)
            case .unreadable:
                // JSONDecoder explains what is wrong; what it accepts anyway (a trailing comma) is refused.
                _ = try decoder.decode(EnvelopeHeader.self, from: frame)
                throw IPCError(.badRequest, "malformed envelope: not strict JSON (RFC 8259), nested deeper than \(JSONTape.maximumDepth) levels, or a key that is not valid Unicode")
            }
            body = .wholeFrame
        }
    }

    /// Decodes the body as `Value`; a missing or null body is accepted only for `EmptyBody`. Throws
    /// `IPCError(.badRequest)` naming the path (`at body.qty: expected Double`).
    /// `decoder` is made only when the fast path declines.
    func decodeBody<Value: Decodable>(_ type: Value.Type, decoder makeDecoder: @autoclosure () -> JSONDecoder) throws -> Value {
        do {
            switch body {
            case .range(let offset, let length):
                let fast = frame.withUnsafeReadableBytes { bytes in
                    FastJSON.decode(Value.self, from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                }
                if let fast { return fast }
                // Declined: refuse a repeated key (JSONDecoder would serve its first value), then JSONDecoder
                // gives the authoritative answer (and its error). The whole frame was checked already when
                // the envelope went to JSONDecoder (`.wholeFrame`).
                let outcome = frame.withUnsafeReadableBytes { bytes in
                    JSONKeyCheck.check(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                }
                if case .duplicate(let key, let path) = outcome {
                    let place = path == "top level" ? "body" : path.hasPrefix("[") ? "body\(path)" : "body.\(path)"
                    throw IPCError(.badRequest, "invalid body: duplicate key '\(LogExcerpt.of(key, limit: 64))' in \(place)")
                }
                let bytes = frame.getSlice(at: frame.readerIndex + offset, length: length)!
                let value = try makeDecoder().decode(Value.self, from: bytes)
                if case .unreadable = outcome {
                    throw IPCError(.badRequest, "invalid body: not strict JSON (RFC 8259), nested deeper than \(JSONTape.maximumDepth) levels, or a key that is not valid Unicode")
                }
                return value
            case .wholeFrame:
                if let value = try makeDecoder().decode(EnvelopeBody<Value>.self, from: frame).body { return value }
            case .absent, .null:
                break
            }
        } catch let error as DecodingError {
            // The wrapper's coding path already starts at `body`; a body decoded alone gets the prefix here.
            var prefix: String? = "body"
            if case .wholeFrame = body { prefix = nil }
            throw IPCError(.badRequest, "invalid body: \(error.readableDescription(under: prefix))")
        }
        if let empty = EmptyBody() as? Value { return empty }
        throw IPCError(.badRequest, "missing body")
    }
}

/// Reads the top-level fields of an envelope without building a JSON tree. It accepts only the plain
/// shape every BAGBOT peer sends (ASCII strings without escapes, integer `v` and `id`, each key once) and
/// returns nil for anything else, which then goes to JSONDecoder; it never accepts a header JSONDecoder
/// would refuse. The body is only delimited here (strings and brackets matched); its bytes are checked
/// when the body is decoded.
enum EnvelopeScanner {
    struct Result {
        var v: Int
        var id: UInt64?
        var type: IPCMessageType
        var method: String?
        var rid: String?
        var body: IncomingFrame.Body
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    static func scan(_ bytes: UnsafeRawBufferPointer) -> Result? {
        var scanner = Cursor(bytes: bytes)
        return scanner.envelope()
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        /// A string of printable ASCII without escapes; returns its byte range (without quotes).
        mutating func plainString() -> Range<Int>? {
            guard expect(quote) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == quote {
                    defer { index += 1 }
                    return start..<index
                }
                guard byte >= 0x20, byte < 0x7F, byte != backslash else { return nil }
                index += 1
            }
            return nil
        }

        /// `null` (leaving `value` nil) or a plain string; false for anything else.
        mutating func readOptionalText(into value: inout String?) -> Bool {
            if literal("null") { return true }
            guard let range = plainString() else { return false }
            value = text(range)
            return true
        }

        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
            guard range.count == literal.utf8CodeUnitCount else { return false }
            let pointer = literal.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] {
                return false
            }
            return true
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let start = index
            let pointer = word.utf8Start
            for offset in 0..<word.utf8CodeUnitCount {
                guard current == pointer[offset] else {
                    index = start
                    return false
                }
                index += 1
            }
            guard isDelimiter else {
                index = start
                return false
            }
            return true
        }

        var isDelimiter: Bool {
            guard let byte = current else { return true }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): return true
            default: return false
            }
        }

        /// A JSON integer with at most 18 digits (no fraction, no exponent, no leading zeros).
        mutating func smallInteger() -> Int? {
            let negative = expect(UInt8(ascii: "-"))
            guard let magnitude = digits(maximum: 18) else { return nil }
            return negative ? -Int(magnitude) : Int(magnitude)
        }

        /// Decimal digits forming a valid JSON integer, followed by a delimiter.
        mutating func digits(maximum: Int) -> UInt64? {
            let start = index
            var value: UInt64 = 0
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            let count = index - start
            guard count > 0, count <= maximum, isDelimiter else { return nil }
            if count > 1 && bytes[start] == UInt8(ascii: "0") { return nil }
            return value
        }

        /// Moves past one JSON value of any kind, matching strings and brackets; nil if it cannot.
        mutating func skipValue() -> Bool {
            guard let first = current else { return false }
            switch first {
            case quote:
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while let byte = current {
                    switch byte {
                    case quote:
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default:
                        break
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while !isDelimiter { index += 1 }
                return index > start
            }
        }

        mutating func skipString() -> Bool {
            guard expect(quote) else { return false }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == backslash {
                    index += 2
                    continue
                }
                index += 1
                if byte == quote { return true }
            }
            return false
        }

        mutating func envelope() -> Result? {
            skipWhitespace()
            guard expect(UInt8(ascii: "{")) else { return nil }
            var v: Int?
            var id: UInt64?
            var type: IPCMessageType?
            var method: String?
            var rid: String?
            var body = IncomingFrame.Body.absent
            var seen: (v: Bool, id: Bool, type: Bool, method: Bool, rid: Bool, body: Bool) = (false, false, false, false, false, false)

            skipWhitespace()
            guard current != UInt8(ascii: "}") else { return nil }
            while true {
                skipWhitespace()
                guard let key = plainString() else { return nil }
                skipWhitespace()
                guard expect(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                if equals(key, "v") {
                    guard !seen.v, let value = smallInteger() else { return nil }
                    seen.v = true
                    v = value
                } else if equals(key, "id") {
                    guard !seen.id else { return nil }
                    seen.id = true
                    if !literal("null") {
                        guard let value = digits(maximum: 20) else { return nil }
                        id = value
                    }
                } else if equals(key, "type") {
                    guard !seen.type, let range = plainString(), let value = IPCMessageType(rawValue: text(range)) else {
                        return nil
                    }
                    seen.type = true
                    type = value
                } else if equals(key, "method") {
                    guard !seen.method, readOptionalText(into: &method) else { return nil }
                    seen.method = true
                } else if equals(key, "rid") {
                    guard !seen.rid, readOptionalText(into: &rid) else { return nil }
                    seen.rid = true
                } else if equals(key, "body") {
                    guard !seen.body else { return nil }
                    seen.body = true
                    if literal("null") {
                        body = .null
                    } else {
                        let start = index
                        guard skipValue() else { return nil }
                        body = .range(offset: start, length: index - start)
                    }
                } else {
                    // Another key: JSONDecoder would ignore it, but it is not checked here; let JSONDecoder read it.
                    return nil
                }
                skipWhitespace()
                if expect(UInt8(ascii: ",")) { continue }
                guard expect(UInt8(ascii: "}")) else { return nil }
                break
            }
            skipWhitespace()
            guard index == bytes.count, let v, let type else { return nil }
            return Result(v: v, id: id, type: type, method: method, rid: rid, body: body)
        }
    }
}
