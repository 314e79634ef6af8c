import Foundation
import NIOCore

/// The `Encoder` that writes JSON straight into a `ByteBuffer` as values are encoded, with no tree in
/// between. `Codable` never says when a container is finished, so containers are closed lazily: writing
/// to a container closes every container opened inside it, and a value's containers are closed when its
/// `encode(to:)` returns. A container written to after it was closed (legal in `Codable`, never done by
/// synthesized conformances) makes the writer fail, and the caller falls back to JSONEncoder.
///
/// It writes one of two dialects (`JSONStyle`): IPC's, and the HTTP API's, whose keys are sorted as
/// JSONEncoder's `.sortedKeys` sorts them (by their UTF-8 bytes on Linux): an object's members are written
/// in the order they come and put in order when the object is closed.
final class JSONStreamWriter: Encoder {
    private static let placeholder = ByteBufferAllocator().buffer(capacity: 0)

    private struct OpenContainer {
        let id: Int
        let closer: UInt8
        var count = 0
        /// Where this object's keys start in `keys`.
        let firstKey: Int
    }

    /// Objects with more members go to JSONEncoder (the duplicate-key check here is quadratic).
    private static let maximumMembers = 64

    // One writer serves one `encode` call on one thread and never modifies a property while another
    // modification of it is under way, so the run-time exclusivity checks (about a sixth of the time
    // spent here) are switched off for its state.
    @exclusivity(unchecked) private var buffer: ByteBuffer
    @exclusivity(unchecked) private var open: [OpenContainer] = []
    /// The keys written so far in every open object, innermost last: JSONEncoder keeps the last value of a
    /// key encoded twice, which a stream cannot take back, so a repeated key makes the writer fail.
    @exclusivity(unchecked) private var keys: [String] = []
    /// Where each key in `keys` starts in `buffer` (its opening quote): the member runs to the next one's comma.
    @exclusivity(unchecked) private var keyStarts: [Int] = []
    private let style: JSONStyle
    @exclusivity(unchecked) private var nextID = 0
    /// A value is due at depth `expectedDepth` (after a key, an array separator, or at the top).
    @exclusivity(unchecked) private var valueExpected = false
    @exclusivity(unchecked) private var expectedDepth = 0
    @exclusivity(unchecked) private var failed = false

    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Takes over `buffer`'s storage (so writes do not copy it); give it back with `releaseBuffer`.
    init(taking buffer: inout ByteBuffer, style: JSONStyle = .ipc) {
        self.style = style
        self.buffer = buffer
        buffer = Self.placeholder
    }

    func releaseBuffer() -> ByteBuffer {
        let result = buffer
        buffer = Self.placeholder
        return result
    }

    func encodeDocument<Value: Encodable>(_ value: Value) -> Bool {
        do {
            try encodeValue(value)
        } catch {
            return false
        }
        close(downTo: 0)
        return !failed
    }

    // MARK: positions

    private func fail() -> FastJSONDeclined {
        failed = true
        return FastJSONDeclined()
    }

    /// Makes room for the next member or element of container `id` at `depth`; false if it is closed.
    func beginEntry(of id: Int, at depth: Int) -> Bool {
        guard !failed, !valueExpected, depth < open.count, open[depth].id == id else {
            failed = true
            return false
        }
        close(downTo: depth + 1)
        if open[depth].count > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
        open[depth].count += 1
        return true
    }

    func beginMember(_ key: some CodingKey, of id: Int, at depth: Int) throws {
        guard beginEntry(of: id, at: depth) else { throw FastJSONDeclined() }
        let name = key.stringValue
        let firstKey = open[depth].firstKey
        guard keys.count - firstKey < Self.maximumMembers, !keys[firstKey...].contains(name) else { throw fail() }
        keys.append(name)
        keyStarts.append(buffer.writerIndex)
        buffer.writeJSONStringLiteral(name, suffix: UInt8(ascii: ":"))
    }

    /// Claims the value slot at `depth` for a value being written now.
    private func claimSlot(at depth: Int) -> Bool {
        guard !failed, valueExpected, expectedDepth == depth, depth == open.count else {
            failed = true
            return false
        }
        valueExpected = false
        return true
    }

    private func openContainer(_ opener: UInt8, _ closer: UInt8) -> (id: Int, depth: Int) {
        guard claimSlot(at: open.count) else { return (-1, 0) }
        buffer.writeInteger(opener)
        nextID += 1
        open.append(OpenContainer(id: nextID, closer: closer, firstKey: keys.count))
        return (nextID, open.count - 1)
    }

    private func close(downTo depth: Int) {
        while open.count > depth {
            let container = open.removeLast()
            if style.sortsKeys, container.count > 1, container.closer == UInt8(ascii: "}") {
                sortMembers(from: container.firstKey)
            }
            keys.removeSubrange(container.firstKey...)
            keyStarts.removeSubrange(container.firstKey...)
            buffer.writeInteger(container.closer)
        }
    }

    /// Puts the members of the object being closed (keys from `firstKey` on, written up to the writer index) in
    /// the order of their keys' UTF-8 bytes, as JSONEncoder's `.sortedKeys` does. Inner objects are already
    /// closed, so each member is a finished run of bytes and only whole members move.
    private func sortMembers(from firstKey: Int) {
        let count = keys.count - firstKey
        var order = Array(firstKey..<keys.count)
        order.sort { keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) }
        if order.elementsEqual(firstKey..<keys.count) { return }
        let start = keyStarts[firstKey]
        let end = buffer.writerIndex
        let members = buffer.getBytes(at: start, length: end - start)!
        var at = start
        members.withUnsafeBytes { members in
            for (position, member) in order.enumerated() {
                if position > 0 {
                    buffer.setInteger(UInt8(ascii: ","), at: at)
                    at += 1
                }
                // A member ends where the next one's comma is, the last one at the end. Set from the bytes
                // themselves: an `ArraySlice` would be copied into an array of its own first.
                let from = keyStarts[member] - start
                let to = (member + 1 < firstKey + count ? keyStarts[member + 1] - 1 : end) - start
                at += buffer.setBytes(UnsafeRawBufferPointer(rebasing: members[from..<to]), at: at)
            }
        }
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (id, depth) = openContainer(UInt8(ascii: "{"), UInt8(ascii: "}"))
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(writer: self, id: id, depth: depth))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let (id, depth) = openContainer(UInt8(ascii: "["), UInt8(ascii: "]"))
        return StreamUnkeyedContainer(writer: self, id: id, depth: depth)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        StreamSingleValueContainer(writer: self, depth: open.count)
    }

    /// For a single-value container: the slot it was made for must still be free.
    func claimSingleValueSlot(at depth: Int) throws {
        guard claimSlot(at: depth) else { throw FastJSONDeclined() }
        valueExpected = true  // the write that follows consumes it
        expectedDepth = depth
    }

    // MARK: values (each is written into the slot just made for it)

    func encodeValue<Value: Encodable>(_ value: Value) throws {
        if Value.self == Date.self {
            switch style.dates {
            case .secondsSince1970:
                // IPCCoding's strategy: seconds since 1970, as a number.
                return try writeFloatingPoint((value as! Date).timeIntervalSince1970)
            case .iso8601:
                guard buffer.writeISO8601(value as! Date) else { throw fail() }
                valueExpected = false
                return
            }
        }
        if Value.self == Data.self || Value.self == Decimal.self || Value.self == URL.self { throw fail() }
        let depth = open.count
        valueExpected = true
        expectedDepth = depth
        do {
            try value.encode(to: self)
        } catch {
            throw fail()
        }
        if valueExpected {
            // Encoded nothing: JSONEncoder writes an empty object for such a nested value.
            guard expectedDepth == depth else { throw fail() }
            valueExpected = false
            buffer.writeStaticString("{}")
        }
        guard !failed, open.count >= depth else { throw fail() }
        close(downTo: depth)
    }

    func writeNull() {
        valueExpected = false
        buffer.writeStaticString("null")
    }

    func writeBool(_ value: Bool) {
        valueExpected = false
        if value { buffer.writeStaticString("true") } else { buffer.writeStaticString("false") }
    }

    /// A Double or Float in its shortest round-trip form.
    func writeFloatingPoint<Value: BinaryFloatingPoint & CustomStringConvertible>(_ value: Value) throws {
        // JSONEncoder refuses non-finite numbers; the fallback gives its error.
        guard value.isFinite else { throw fail() }
        valueExpected = false
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }  // as JSONEncoder writes integral numbers
        buffer.writeString(text)
    }

    func writeInteger<Value: FixedWidthInteger>(_ value: Value) {
        valueExpected = false
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        buffer.writeDecimalDigits(of: UInt64(value.magnitude))
    }

    func writeString(_ text: String) {
        valueExpected = false
        buffer.writeJSONStringLiteral(text)
    }

    func nestedContainer<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        valueExpected = true
        expectedDepth = open.count
        return container(keyedBy: type)
    }

    func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        valueExpected = true
        expectedDepth = open.count
        return unkeyedContainer()
    }

    /// `superEncoder` cannot throw; the writer fails and the caller falls back.
    func failedEncoder() -> Encoder {
        failed = true
        return self
    }
}

private struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let id: Int
    let depth: Int

    var codingPath: [CodingKey] { [] }

    private func begin(_ key: Key) throws { try writer.beginMember(key, of: id, at: depth) }

    mutating func encodeNil(forKey key: Key) throws { try begin(key); writer.writeNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try begin(key); writer.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try begin(key); writer.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try begin(key); try writer.writeFloatingPoint(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try begin(key); try writer.writeFloatingPoint(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try begin(key); try writer.encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        guard (try? begin(key)) != nil else { return writer.container(keyedBy: keyType) }
        return writer.nestedContainer(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        guard (try? begin(key)) != nil else { return writer.unkeyedContainer() }
        return writer.nestedUnkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { writer.failedEncoder() }
    mutating func superEncoder(forKey key: Key) -> Encoder { writer.failedEncoder() }
}

/// The value writes shared by the unkeyed and the single-value container: each claims its slot with
/// `beginValue` (a new array element, or the single value) and then writes.
private protocol StreamValueSlot {
    var writer: JSONStreamWriter { get }
    mutating func beginValue() throws
}

extension StreamValueSlot {
    mutating func encodeNil() throws { try beginValue(); writer.writeNull() }
    mutating func encode(_ value: Bool) throws { try beginValue(); writer.writeBool(value) }
    mutating func encode(_ value: String) throws { try beginValue(); writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try beginValue(); try writer.writeFloatingPoint(value) }
    mutating func encode(_ value: Float) throws { try beginValue(); try writer.writeFloatingPoint(value) }
    mutating func encode(_ value: Int) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try beginValue(); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try beginValue(); try writer.encodeValue(value) }
}

private struct StreamUnkeyedContainer: UnkeyedEncodingContainer, StreamValueSlot {
    let writer: JSONStreamWriter
    let id: Int
    let depth: Int
    private(set) var count = 0

    init(writer: JSONStreamWriter, id: Int, depth: Int) {
        self.writer = writer
        self.id = id
        self.depth = depth
    }

    var codingPath: [CodingKey] { [] }

    mutating func beginValue() throws {
        guard writer.beginEntry(of: id, at: depth) else { throw FastJSONDeclined() }
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        guard (try? beginValue()) != nil else { return writer.container(keyedBy: keyType) }
        return writer.nestedContainer(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        guard (try? beginValue()) != nil else { return writer.unkeyedContainer() }
        return writer.nestedUnkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { writer.failedEncoder() }
}

private struct StreamSingleValueContainer: SingleValueEncodingContainer, StreamValueSlot {
    let writer: JSONStreamWriter
    let depth: Int

    var codingPath: [CodingKey] { [] }

    func beginValue() throws { try writer.claimSingleValueSlot(at: depth) }
}

extension ByteBuffer {
    /// `value` in decimal digits, without building a String.
    mutating func writeDecimalDigits(of value: UInt64) {
        var value = value
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            } while value > 0
            writeBytes(UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    /// Writes `text` as a JSON string literal, escaped as JSONEncoder with `.withoutEscapingSlashes` does,
    /// followed by `suffix` if given (a key's colon). Text that needs no escape is copied in one go.
    mutating func writeJSONStringLiteral(_ text: String, suffix: UInt8? = nil) {
        var text = text
        text.withUTF8 { utf8 in
            if utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                writeInteger(UInt8(ascii: "\""))
                for byte in utf8 { writeJSONEscaped(byte) }
                writeInteger(UInt8(ascii: "\""))
                if let suffix { writeInteger(suffix) }
                return
            }
            let length = utf8.count + 2 + (suffix == nil ? 0 : 1)
            writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                out[0] = UInt8(ascii: "\"")
                if let base = utf8.baseAddress { (out.baseAddress! + 1).copyMemory(from: base, byteCount: utf8.count) }
                out[utf8.count + 1] = UInt8(ascii: "\"")
                if let suffix { out[utf8.count + 2] = suffix }
                return length
            }
        }
    }

    private mutating func writeJSONEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\\"): writeStaticString(#"\\"#)
        case UInt8(ascii: "\""): writeStaticString(#"\""#)
        case 0x0A: writeStaticString(#"\n"#)
        case 0x0D: writeStaticString(#"\r"#)
        case 0x09: writeStaticString(#"\t"#)
        case 0x08: writeStaticString(#"\b"#)
        case 0x0C: writeStaticString(#"\f"#)
        case 0x00..<0x20:
            let digits: StaticString = "0123456789abcdef"
            writeStaticString(#"\u00"#)
            writeInteger(digits.utf8Start[Int(byte >> 4)])
            writeInteger(digits.utf8Start[Int(byte & 0x0F)])
        default: writeInteger(byte)
        }
    }
}
