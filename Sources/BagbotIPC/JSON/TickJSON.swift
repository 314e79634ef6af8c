import BagbotDomain
import Foundation
import NIOCore

/// Ticks are most of the frames on the wire (a max-speed replay publishes tens of thousands a second to every
/// subscriber), and going through `Codable` — even the fast path's — was a seventh of routerd's time and a
/// tenth of arsenald's. So a tick's JSON is written and read here by hand, byte for byte what the generic
/// path writes (`TickJSONTests` compares them), and read from the same validated tape with the same value
/// readers, so it accepts and refuses exactly what `JSONDecoder` does; anything else is declined and goes the
/// generic way.
enum TickJSON {
    /// `{"symbol":…,"time":…,"bid":"…","ask":"…","last":"…","volume":"…","sequence":…,"source":…}`, in the
    /// synthesized `Codable` order; false (nothing written) when the time is not finite, which JSONEncoder refuses.
    static func write(_ tick: Tick, into buffer: inout ByteBuffer) -> Bool {
        let seconds = tick.time.timeIntervalSince1970
        guard seconds.isFinite else { return false }
        buffer.writeStaticString(#"{"symbol":"#)
        buffer.writeJSONStringLiteral(tick.symbol)
        buffer.writeStaticString(#","time":"#)
        // As the stream writer writes a Double: shortest round-trip digits, an integral value without ".0".
        var time = seconds.description
        if time.hasSuffix(".0") { time.removeLast(2) }
        buffer.writeString(time)
        buffer.writeStaticString(#","bid":""#)
        writePlain(tick.bid, into: &buffer)
        buffer.writeStaticString(#"","ask":""#)
        writePlain(tick.ask, into: &buffer)
        buffer.writeStaticString(#"","last":""#)
        writePlain(tick.last, into: &buffer)
        buffer.writeStaticString(#"","volume":""#)
        writePlain(tick.volume, into: &buffer)
        buffer.writeStaticString(#"","sequence":"#)
        buffer.writeDecimalDigits(of: tick.sequence)
        buffer.writeStaticString(#","source":"#)
        buffer.writeJSONStringLiteral(tick.source)
        buffer.writeStaticString("}")
        return true
    }

    /// The tick in `bytes` (one JSON document); nil when it is not one this reader is sure of, for the generic
    /// path to decode or explain.
    static func read(_ bytes: UnsafeRawBufferPointer) -> Tick? {
        guard let tape = JSONTape.parse(bytes) else { return nil }
        let reader = JSONTapeDecoder(bytes: bytes, tape: tape)
        guard tape.nodes.first?.kind == .object else { return nil }
        do {
            func value(_ key: String) throws -> Int {
                guard let index = try reader.member(named: key, in: 0) else { throw reader.decline() }
                return index
            }
            func decimal(_ key: String) throws -> ExactDecimal {
                guard let decimal = ExactDecimal(try reader.string(at: value(key))) else { throw reader.decline() }
                return decimal
            }
            return Tick(symbol: try reader.string(at: value("symbol")),
                        time: Date(timeIntervalSince1970: try reader.double(at: value("time"))),
                        bid: try decimal("bid"), ask: try decimal("ask"), last: try decimal("last"), volume: try decimal("volume"),
                        sequence: try reader.integer(UInt64.self, at: value("sequence")),
                        source: try reader.string(at: value("source")))
        } catch {
            return nil
        }
    }

    /// `ExactDecimal.description`'s text (every digit of its scale, a leading zero, a minus sign), without
    /// building a String.
    static func writePlain(_ decimal: ExactDecimal, into buffer: inout ByteBuffer) {
        // Prices and sizes fit a UInt64's digits; a value of more digits (up to 36) is rare enough for the String.
        guard var magnitude = UInt64(exactly: decimal.mantissa.magnitude) else {
            buffer.writeString(decimal.description)
            return
        }
        let scale = decimal.scale
        // 20 digits, the point, a leading zero and the sign, at most.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            var index = 24
            var written = 0
            repeat {
                if scale > 0 && written == scale {
                    index -= 1
                    text[index] = UInt8(ascii: ".")
                }
                index -= 1
                text[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                written += 1
            } while magnitude > 0 || written <= scale
            if decimal.mantissa < 0 {
                index -= 1
                text[index] = UInt8(ascii: "-")
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: text[index..<24]))
        }
    }
}

extension IPCClient {
    private static let tickSymbolMarker = Array(#""body":{"symbol":""#.utf8)

    /// The symbol of a `router.tick` event frame, found without decoding the frame, for a subscriber that keeps a
    /// sample of the ticks and decodes only those (the gateway's event stream); nil when the frame is not laid
    /// out as routerd writes ticks or the symbol is escaped. The marker's quotes are unescaped, so it cannot be
    /// inside a string: a match is the body's first member.
    public static func tickSymbol(in frame: ByteBuffer) -> String? {
        frame.withUnsafeReadableBytes { bytes -> String? in
            let marker = tickSymbolMarker
            guard bytes.count > marker.count else { return nil }
            var start = 0
            while start + marker.count < bytes.count {
                guard bytes[start] == marker[0], memcmp(bytes.baseAddress! + start, marker, marker.count) == 0 else {
                    start += 1
                    continue
                }
                let first = start + marker.count
                var end = first
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\") || bytes[end] >= 0x80 { return nil }
                    end += 1
                }
                guard end < bytes.count else { return nil }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[first..<end]), as: UTF8.self)
            }
            return nil
        }
    }
}
