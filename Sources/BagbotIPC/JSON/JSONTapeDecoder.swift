import Foundation

/// The `Decoder` over a `JSONTape`. Every error it throws also marks it `declined`, so a type that catches
/// an error and tries something else (`try?`) cannot end up with a value Foundation would not give: the
/// whole document then goes to JSONDecoder. Coding paths are not tracked, for the same reason: no error
/// from here is ever shown.
final class JSONTapeDecoder: Decoder {
    let bytes: UnsafeRawBufferPointer
    let nodes: [JSONTape.Node]
    /// The value the next `container`/`singleValueContainer` call reads.
    // Used by one `decode` call on one thread, never re-entrantly: no run-time exclusivity checks.
    @exclusivity(unchecked) private var current = 0
    @exclusivity(unchecked) private(set) var declined = false

    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// IPC's dialect reads a `Date` as seconds since 1970; without it (JSONDecoder's default, seconds since 2001) a
    /// date is declined and left to JSONDecoder.
    let datesSince1970: Bool

    init(bytes: UnsafeRawBufferPointer, tape: JSONTape, datesSince1970: Bool = true) {
        self.bytes = bytes
        self.nodes = tape.nodes
        self.datesSince1970 = datesSince1970
    }

    func decodeDocument<Value: Decodable>(_ type: Value.Type) -> Value? {
        guard let value = try? decode(type, at: 0), !declined else { return nil }
        return value
    }

    func decline() -> FastJSONDeclined {
        declined = true
        return FastJSONDeclined()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard nodes[current].kind == .object else { throw decline() }
        return KeyedDecodingContainer(TapeKeyedContainer<Key>(decoder: self, object: current))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard nodes[current].kind == .array else { throw decline() }
        return TapeUnkeyedContainer(decoder: self, array: current)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        TapeSingleValueContainer(decoder: self, index: current)
    }

    // MARK: values

    func decode<Value: Decodable>(_ type: Value.Type, at index: Int) throws -> Value {
        // JSONDecoder reads these itself rather than through their Codable conformances.
        if Value.self == Date.self {
            guard datesSince1970 else { throw decline() }
            return Date(timeIntervalSince1970: try double(at: index)) as! Value
        }
        if Value.self == Data.self || Value.self == Decimal.self || Value.self == URL.self { throw decline() }
        let saved = current
        current = index
        defer { current = saved }
        do {
            return try Value(from: self)
        } catch {
            throw decline()
        }
    }

    func isNull(at index: Int) -> Bool { nodes[index].kind == .null }

    func bool(at index: Int) throws -> Bool {
        switch nodes[index].kind {
        case .trueValue: return true
        case .falseValue: return false
        default: throw decline()
        }
    }

    func string(at index: Int) throws -> String {
        let node = nodes[index]
        guard node.kind == .string else {
            if node.kind == .escapedString, let text = unescapedString(node) { return text }
            throw decline()
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[node.start..<(node.start + node.length)])
        if node.count == 0 { return String(decoding: slice, as: UTF8.self) }  // ASCII
        // JSONDecoder refuses invalid UTF-8 where String(decoding:) would repair it.
        guard let text = String(validating: slice, as: UTF8.self) else { throw decline() }
        return text
    }

    func double(at index: Int) throws -> Double { try floatingPoint(Double.self, at: index) }

    /// A Float is read from the text directly (rounded once), as JSONDecoder does.
    func float(at index: Int) throws -> Float { try floatingPoint(Float.self, at: index) }

    /// The token is a valid JSON number (checked by the tape), which the standard library parses with
    /// correct rounding. JSONDecoder refuses numbers that overflow, or that round to zero although they
    /// are not zero (`1e-400`); those are left to it.
    private func floatingPoint<Value: BinaryFloatingPoint & LosslessStringConvertible>(
        _ type: Value.Type, at index: Int
    ) throws -> Value {
        let node = nodes[index]
        guard node.kind == .integer || node.kind == .number else { throw decline() }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[node.start..<(node.start + node.length)])
        guard let value = Value(String(decoding: slice, as: UTF8.self)), value.isFinite else { throw decline() }
        guard !value.isZero || !mantissaHasNonZeroDigit(slice) else { throw decline() }
        return value
    }

    private func mantissaHasNonZeroDigit(_ token: UnsafeRawBufferPointer) -> Bool {
        for byte in token {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return false }
            if byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9") { return true }
        }
        return false
    }

    /// Plain integer tokens only; `1.0` or `1e2` (which JSONDecoder also accepts) decline.
    func integer<Value: FixedWidthInteger>(_ type: Value.Type, at index: Int) throws -> Value {
        let node = nodes[index]
        guard node.kind == .integer else { throw decline() }
        var position = node.start
        let end = node.start + node.length
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var magnitude: UInt64 = 0
        while position < end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw decline() }
            magnitude = sum
            position += 1
        }
        if negative {
            guard Value.isSigned, magnitude <= UInt64(Int64.max) + 1 else { throw decline() }
            let signed = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            guard let value = Value(exactly: signed) else { throw decline() }
            return value
        }
        guard let value = Value(exactly: magnitude) else { throw decline() }
        return value
    }

    /// The text of an escaped string; nil when it is not valid Unicode (left to JSONDecoder).
    func unescapedString(_ node: JSONTape.Node) -> String? {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var position = node.start
        let end = node.start + node.length
        func flushUTF8() -> Bool {
            guard !utf8.isEmpty else { return true }
            guard let text = String(validating: utf8, as: UTF8.self) else { return false }
            scalars.append(contentsOf: text.unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
            return true
        }
        func hex4(at offset: Int) -> UInt16 {
            (0..<4).reduce(0) { $0 << 4 | JSONTape.hexValue(bytes[offset + $1])! }
        }
        while position < end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                position += 1
                continue
            }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard flushUTF8() else { return nil }
                let unit = hex4(at: position)
                position += 4
                var scalar: Unicode.Scalar?
                if UTF16.isLeadSurrogate(unit) {
                    // A lone surrogate is left to JSONDecoder.
                    guard position + 6 <= end, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                    else { return nil }
                    let trail = hex4(at: position + 2)
                    guard UTF16.isTrailSurrogate(trail) else { return nil }
                    position += 6
                    scalar = Unicode.Scalar(0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(trail - 0xDC00))
                } else {
                    scalar = Unicode.Scalar(unit)
                }
                guard let scalar else { return nil }
                scalars.append(scalar)
            default: utf8.append(escape)  // \" \\ \/
            }
        }
        guard flushUTF8() else { return nil }
        return String(scalars)
    }

    /// The member whose key is `name`. Declines when a key is there twice (JSONDecoder keeps the first),
    /// is escaped, or holds a byte outside ASCII: JSONDecoder compares keys as Strings (canonical
    /// equivalence, so two spellings of "é" match) and refuses a key that is not UTF-8, even one it is not
    /// looking for. Comparing bytes is only the same for ASCII.
    func member(named name: String, in object: Int) throws -> Int? {
        var found: Int?
        var index = object + 1
        let end = nodes[object].end
        var name = name
        try name.withUTF8 { wanted in
            guard !wanted.contains(where: { $0 >= 0x80 }) else { throw decline() }
            while index < end {
                let key = nodes[index]
                guard key.kind == .string, key.count == 0 else { throw decline() }
                if key.length == wanted.count,
                   key.length == 0 || memcmp(bytes.baseAddress! + key.start, wanted.baseAddress!, key.length) == 0 {
                    guard found == nil else { throw decline() }
                    found = index + 1
                }
                index = nodes[index + 1].end
            }
        }
        return found
    }

    func keys(of object: Int) throws -> [String] {
        guard nodes[object].count <= 256 else { throw decline() }
        var keys: [String] = []
        keys.reserveCapacity(nodes[object].count)
        var index = object + 1
        while index < nodes[object].end {
            // ASCII only, unescaped, each once: the same rule as `member(named:in:)`.
            guard nodes[index].kind == .string, nodes[index].count == 0 else { throw decline() }
            let key = try string(at: index)
            guard !keys.contains(key) else { throw decline() }
            keys.append(key)
            index = nodes[index + 1].end
        }
        return keys
    }
}

private struct TapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONTapeDecoder
    let object: Int

    var codingPath: [CodingKey] { [] }

    var allKeys: [Key] {
        guard let keys = try? decoder.keys(of: object) else { return [] }
        let result = keys.compactMap { Key(stringValue: $0) }
        // "1" and "01" are one Int key: which value JSONDecoder keeps is its business.
        let numbers = result.compactMap(\.intValue)
        if Set(numbers).count != numbers.count { _ = decoder.decline() }
        return result
    }

    func contains(_ key: Key) -> Bool {
        (try? decoder.member(named: key.stringValue, in: object)) != nil
    }

    private func value(_ key: Key) throws -> Int {
        guard let index = try decoder.member(named: key.stringValue, in: object) else { throw decoder.decline() }
        return index
    }

    func decodeNil(forKey key: Key) throws -> Bool { decoder.isNull(at: try value(key)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(at: value(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.string(at: value(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.double(at: value(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.float(at: value(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.integer(type, at: value(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.integer(type, at: value(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.integer(type, at: value(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.integer(type, at: value(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder.decode(type, at: value(key)) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        let index = try value(key)
        guard decoder.nodes[index].kind == .object else { throw decoder.decline() }
        return KeyedDecodingContainer(TapeKeyedContainer<NestedKey>(decoder: decoder, object: index))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        let index = try value(key)
        guard decoder.nodes[index].kind == .array else { throw decoder.decline() }
        return TapeUnkeyedContainer(decoder: decoder, array: index)
    }

    func superDecoder() throws -> Decoder { throw decoder.decline() }
    func superDecoder(forKey key: Key) throws -> Decoder { throw decoder.decline() }
}

/// The value reads shared by the unkeyed and the single-value container: `valueIndex` is the node to read
/// (the next element, consumed; or the single value). Non-mutating, as SingleValueDecodingContainer wants.
private protocol TapeValueSlot {
    var decoder: JSONTapeDecoder { get }
    func valueIndex() throws -> Int
}

extension TapeValueSlot {
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool(at: valueIndex()) }
    func decode(_ type: String.Type) throws -> String { try decoder.string(at: valueIndex()) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.double(at: valueIndex()) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.float(at: valueIndex()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type, at: valueIndex()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type, at: valueIndex()) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type, at: valueIndex()) }
}

private struct TapeUnkeyedContainer: UnkeyedDecodingContainer, TapeValueSlot {
    /// Where the container stands; a class so that the shared (non-mutating) reads can advance it.
    private final class Cursor {
        /// The next element's node.
        var position: Int
        var index = 0

        init(position: Int) {
            self.position = position
        }
    }

    let decoder: JSONTapeDecoder
    let array: Int
    private let cursor: Cursor

    init(decoder: JSONTapeDecoder, array: Int) {
        self.decoder = decoder
        self.array = array
        self.cursor = Cursor(position: array + 1)
    }

    var codingPath: [CodingKey] { [] }
    var count: Int? { decoder.nodes[array].count }
    var currentIndex: Int { cursor.index }
    var isAtEnd: Bool { cursor.index >= decoder.nodes[array].count }

    /// The next element's node, consumed.
    func valueIndex() throws -> Int {
        guard !isAtEnd else { throw decoder.decline() }
        let index = cursor.position
        cursor.position = decoder.nodes[index].end
        cursor.index += 1
        return index
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw decoder.decline() }
        guard decoder.isNull(at: cursor.position) else { return false }
        _ = try valueIndex()
        return true
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let index = try valueIndex()
        guard decoder.nodes[index].kind == .object else { throw decoder.decline() }
        return KeyedDecodingContainer(TapeKeyedContainer<NestedKey>(decoder: decoder, object: index))
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let index = try valueIndex()
        guard decoder.nodes[index].kind == .array else { throw decoder.decline() }
        return TapeUnkeyedContainer(decoder: decoder, array: index)
    }

    mutating func superDecoder() throws -> Decoder { throw decoder.decline() }
}

private struct TapeSingleValueContainer: SingleValueDecodingContainer, TapeValueSlot {
    let decoder: JSONTapeDecoder
    let index: Int

    var codingPath: [CodingKey] { [] }

    func valueIndex() -> Int { index }
    func decodeNil() -> Bool { decoder.isNull(at: index) }
}
