import Foundation

/// One JSON document as a flat array of its values in document order (a "tape"), pointing into the
/// document's bytes. An object's members follow it as key, value, key, value…; an array's elements follow
/// it; `end` lets a reader skip a whole subtree. Nothing is copied or converted until a value is asked for.
struct JSONTape {
    enum Kind: UInt8 {
        case object, array, string, escapedString, number, integer, trueValue, falseValue, null
    }

    struct Node {
        var kind: Kind
        /// Strings: the first byte after the opening quote; numbers: the first byte of the token.
        var start: Int
        /// Strings: the bytes between the quotes; numbers: the token's bytes.
        var length: Int
        /// The index just past this value's subtree.
        var end: Int
        /// Objects: members; arrays: elements; strings: 1 when they hold a byte outside ASCII.
        var count: Int
    }

    var nodes: [Node]

    /// Deeper documents go to JSONDecoder (which has its own limit and message).
    static let maximumDepth = 256

    /// Objects of more members than this are left to JSONDecoder (`keys(of:)` declines them as well).
    static let maximumObjectMembers = 256

    /// Parses and validates one document (RFC 8259 grammar, nothing after it but whitespace); nil when it
    /// is not valid JSON or not one this reader handles. UTF-8 is checked when a string is read.
    ///
    /// With `plainUniqueKeys` (the decoding fast path) every object's keys must also be unescaped ASCII and
    /// each there once, so a document with a duplicated key anywhere, even under a key nobody reads, is
    /// declined and reaches the caller's strict check; for ASCII, equal bytes are equal Strings. Without it
    /// (`JSONKeyCheck`) any valid document is read.
    static func parse(_ bytes: UnsafeRawBufferPointer, plainUniqueKeys: Bool = true) -> JSONTape? {
        var parser = Parser(bytes: bytes, plainUniqueKeys: plainUniqueKeys)
        parser.nodes.reserveCapacity(bytes.count / 6 + 4)
        guard parser.parseValue(depth: 0) else { return nil }
        parser.skipWhitespace()
        guard parser.position == bytes.count else { return nil }
        return JSONTape(nodes: parser.nodes)
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        let plainUniqueKeys: Bool
        var position = 0
        var nodes: [Node] = []

        init(bytes: UnsafeRawBufferPointer, plainUniqueKeys: Bool) {
            self.bytes = bytes
            self.plainUniqueKeys = plainUniqueKeys
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) -> Bool {
            skipWhitespace()
            guard position < bytes.count else { return false }
            switch bytes[position] {
            case UInt8(ascii: "{"): return depth < JSONTape.maximumDepth && parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return depth < JSONTape.maximumDepth && parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return parseString()
            case UInt8(ascii: "t"): return parseLiteral("true", .trueValue)
            case UInt8(ascii: "f"): return parseLiteral("false", .falseValue)
            case UInt8(ascii: "n"): return parseLiteral("null", .null)
            default: return parseNumber()
            }
        }

        private mutating func parseObject(depth: Int) -> Bool {
            let object = nodes.count
            let parsed = parseContainer(.object, closer: UInt8(ascii: "}")) { parser in
                parser.skipWhitespace()
                guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "\""),
                      parser.parseString() else { return false }
                parser.skipWhitespace()
                guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: ":") else { return false }
                parser.position += 1
                return parser.parseValue(depth: depth)
            }
            return parsed && (!plainUniqueKeys || keysArePlainAndUnique(object))
        }

        /// Pairwise, with the length compared first: for the handful of keys of an IPC body this costs a
        /// few integer comparisons per key. Larger objects use a set, so hostile input stays linear.
        private func keysArePlainAndUnique(_ object: Int) -> Bool {
            let count = nodes[object].count
            guard count > 1 else { return count == 0 || (nodes[object + 1].kind == .string && nodes[object + 1].count == 0) }
            guard count <= JSONTape.maximumObjectMembers else { return false }
            let end = nodes[object].end
            var key = object + 1
            if count > 16 {
                var seen = Set<String>(minimumCapacity: count)
                while key < end {
                    let node = nodes[key]
                    guard node.kind == .string, node.count == 0 else { return false }
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[node.start..<(node.start + node.length)]), as: UTF8.self)
                    guard seen.insert(text).inserted else { return false }
                    key = nodes[key + 1].end
                }
                return true
            }
            while key < end {
                let node = nodes[key]
                guard node.kind == .string, node.count == 0 else { return false }
                var other = nodes[key + 1].end
                while other < end {
                    let candidate = nodes[other]
                    if candidate.length == node.length,
                       node.length == 0 || memcmp(bytes.baseAddress! + node.start, bytes.baseAddress! + candidate.start, node.length) == 0 {
                        return false
                    }
                    other = nodes[other + 1].end
                }
                key = nodes[key + 1].end
            }
            return true
        }

        private mutating func parseArray(depth: Int) -> Bool {
            parseContainer(.array, closer: UInt8(ascii: "]")) { parser in parser.parseValue(depth: depth) }
        }

        /// At the opening bracket: `element` parses one member or element; they are separated by commas.
        private mutating func parseContainer(_ kind: Kind, closer: UInt8, element: (inout Parser) -> Bool) -> Bool {
            let index = nodes.count
            nodes.append(Node(kind: kind, start: position, length: 0, end: 0, count: 0))
            position += 1
            var count = 0
            skipWhitespace()
            if position < bytes.count, bytes[position] == closer {
                position += 1
            } else {
                while true {
                    guard element(&self) else { return false }
                    count += 1
                    skipWhitespace()
                    guard position < bytes.count else { return false }
                    let byte = bytes[position]
                    position += 1
                    if byte == closer { break }
                    guard byte == UInt8(ascii: ",") else { return false }
                }
            }
            nodes[index].end = nodes.count
            nodes[index].count = count
            return true
        }

        /// At the opening quote. Control characters must be escaped; escapes must be valid.
        private mutating func parseString() -> Bool {
            position += 1
            let start = position
            var escaped = false
            var nonASCII = 0
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    nodes.append(Node(kind: escaped ? .escapedString : .string, start: start, length: position - start,
                                      end: nodes.count + 1, count: nonASCII))
                    position += 1
                    return true
                }
                if byte < 0x20 { return false }
                if byte >= 0x80 { nonASCII = 1 }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    position += 1
                    guard position < bytes.count else { return false }
                    switch bytes[position] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 1
                    case UInt8(ascii: "u"):
                        guard position + 4 < bytes.count else { return false }
                        for offset in 1...4 where JSONTape.hexValue(bytes[position + offset]) == nil { return false }
                        position += 5
                    default:
                        return false
                    }
                    continue
                }
                position += 1
            }
            return false
        }

        private mutating func parseLiteral(_ literal: StaticString, _ kind: Kind) -> Bool {
            let length = literal.utf8CodeUnitCount
            guard position + length <= bytes.count else { return false }
            let text = literal.utf8Start
            for offset in 0..<length where bytes[position + offset] != text[offset] { return false }
            nodes.append(Node(kind: kind, start: position, length: length, end: nodes.count + 1, count: 0))
            position += length
            return true
        }

        /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func parseNumber() -> Bool {
            let start = position
            var isInteger = true
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count else { return false }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                guard skipDigits() > 0 else { return false }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                guard skipDigits() > 0 else { return false }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    position += 1
                }
                guard skipDigits() > 0 else { return false }
            }
            nodes.append(Node(kind: isInteger ? .integer : .number, start: start, length: position - start,
                              end: nodes.count + 1, count: 0))
            return true
        }

        private mutating func skipDigits() -> Int {
            let start = position
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                position += 1
            }
            return position - start
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt16(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
