import BagbotDomain
import Foundation
import NIOCore

/// A fast path for the JSON of IPC bodies, in front of Foundation's coders.
///
/// Foundation's `JSONEncoder`/`JSONDecoder` were about half the CPU time of an IPC call (2–4 µs per small
/// body each way, mostly generic-metadata lookups and reference counting inside the coders). This codec
/// writes JSON straight into the frame's buffer and reads it from a flat index of the received bytes
/// (`JSONTape`), through the same `Codable` conformances, so no message type needs code of its own.
///
/// It is deliberately partial. Whenever it meets anything it is not sure to treat exactly as Foundation
/// would — a duplicate key (also "1" and "01" where keys are read as numbers), a key that is escaped or
/// not ASCII (Foundation compares keys as Strings, by canonical equivalence), a number that is not a
/// plain integer where an integer is wanted, one that overflows or rounds to zero, `Data`, `Decimal`,
/// `URL`, a non-finite number, a key encoded twice, an encoder used out of order, objects of more than
/// 256 members read or 64 written, any error at all — it *declines*, and the caller runs Foundation's
/// coder on the same value or bytes. It implements `IPCCoding`'s settings (dates as seconds since 1970,
/// slashes not escaped), not those of any other coder. So every
/// accepted input decodes to what `JSONDecoder` (dates as seconds since 1970) would give, every refused
/// input gets Foundation's own error message, and what it writes is JSON that `JSONDecoder` reads back to
/// the same value.
enum FastJSON {
    /// Appends `value` as JSON to `buffer`, in IPC's dialect or the API's (`APIJSON`); false (and `buffer` as it
    /// was) when the fast path declined.
    static func encode<Value: Encodable>(_ value: Value, style: JSONStyle = .ipc, appendingTo buffer: inout ByteBuffer) -> Bool {
        if style == .ipc, Value.self == Tick.self, TickJSON.write(value as! Tick, into: &buffer) { return true }
        let start = buffer.writerIndex
        let writer = JSONStreamWriter(taking: &buffer, style: style)
        let succeeded = writer.encodeDocument(value)
        buffer = writer.releaseBuffer()
        if !succeeded { buffer.moveWriterIndex(to: start) }
        return succeeded
    }

    /// Decodes one JSON document; nil when the fast path declined (the caller then asks JSONDecoder,
    /// which either decodes it or explains what is wrong).
    /// `datesSince1970`: IPC's dialect; false for JSONDecoder's default, where every `Date` is left to JSONDecoder.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: UnsafeRawBufferPointer, datesSince1970: Bool = true) -> Value? {
        if datesSince1970, Value.self == Tick.self, let tick = TickJSON.read(bytes) { return (tick as! Value) }
        guard let tape = JSONTape.parse(bytes) else { return nil }
        return JSONTapeDecoder(bytes: bytes, tape: tape, datesSince1970: datesSince1970).decodeDocument(type)
    }
}

/// Thrown inside the fast path to give up on a value; never leaves `FastJSON`.
struct FastJSONDeclined: Error {}
