import BagbotDomain
import Foundation
import NIOCore

/// The dialect `JSONStreamWriter` writes.
struct JSONStyle: Equatable {
    enum Dates {
        /// IPCCoding's: seconds since 1970, as a number.
        case secondsSince1970
        /// JSONEncoder's `.iso8601`: `2026-12-04T21:19:19Z`, whole seconds (the fraction dropped), UTC.
        case iso8601
    }

    var dates: Dates
    /// As JSONEncoder's `.sortedKeys`: each object's keys in the order of their UTF-8 bytes.
    var sortsKeys: Bool

    static let ipc = JSONStyle(dates: .secondsSince1970, sortsKeys: false)
    static let api = JSONStyle(dates: .iso8601, sortsKeys: true)
}

/// The HTTP API's JSON: ISO 8601 dates, sorted keys, slashes not escaped — JSONEncoder with those settings,
/// byte for byte. The stream writer serves every value it can (`FastJSON`'s limits: no `Data`, `Decimal` or
/// `URL`, no key encoded twice, a date outside the years 1601–9999…) and JSONEncoder the rest, so an answer
/// is the same whichever wrote it (`APIJSONTests` compares them). JSONEncoder was a fifth of the gateway's
/// CPU time under load (docs/performance.md, "The gateway under wrk").
public enum APIJSON {
    /// JSONEncoder as the API has always written its answers.
    public static func makeFoundationEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as the API's JSON, appended to `buffer`.
    public static func encode<Value: Encodable>(_ value: Value, appendingTo buffer: inout ByteBuffer) throws {
        let start = buffer.writerIndex
        if FastJSON.encode(value, style: .api, appendingTo: &buffer) {
            #if DEBUG
            // Debug builds (the test suite's daemons) hold every answer they write to JSONEncoder's.
            if let expected = try? makeFoundationEncoder().encode(value) {
                let written = buffer.getBytes(at: start, length: buffer.writerIndex - start) ?? []
                assert(written == Array(expected), "APIJSON wrote \(String(decoding: written, as: UTF8.self)), JSONEncoder \(String(decoding: expected, as: UTF8.self))")
            }
            #endif
            return
        }
        buffer.writeBytes(try makeFoundationEncoder().encode(value))
    }

    /// `value` as the API's JSON.
    public static func data<Value: Encodable>(_ value: Value) throws -> Data {
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        try encode(value, appendingTo: &buffer)
        return Data(buffer.readableBytesView)
    }
}

extension ByteBuffer {
    /// The first second of 1601 and of 10000, in seconds since 2001 (Foundation's reference date). Before the
    /// Gregorian reform Foundation writes Julian dates, and from 10000 on years of five digits: both are left
    /// to JSONEncoder.
    private static let iso8601Range: ClosedRange<Double> = -12_622_780_800...(253_402_300_800 - 978_307_200 - 1)

    /// `date` as JSONEncoder's `.iso8601` writes it, quotes included: the second it falls in (Foundation keeps
    /// a date as seconds since 2001 and drops the fraction downwards), UTC. False, writing nothing, outside the
    /// years 1601–9999.
    mutating func writeISO8601(_ date: Date) -> Bool {
        let sinceReference = date.timeIntervalSinceReferenceDate
        guard Self.iso8601Range.contains(sinceReference) else { return false }
        let seconds = Int64(sinceReference.rounded(.down)) + 978_307_200
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        writeWithUnsafeMutableBytes(minimumWritableBytes: 22) { out in
            func put(_ value: Int, width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            out[0] = UInt8(ascii: "\"")
            put(Int(year), width: 4, at: 1)
            out[5] = UInt8(ascii: "-")
            put(Int(month), width: 2, at: 6)
            out[8] = UInt8(ascii: "-")
            put(Int(day), width: 2, at: 9)
            out[11] = UInt8(ascii: "T")
            put(secondOfDay / 3600, width: 2, at: 12)
            out[14] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, width: 2, at: 15)
            out[17] = UInt8(ascii: ":")
            put(secondOfDay % 60, width: 2, at: 18)
            out[20] = UInt8(ascii: "Z")
            out[21] = UInt8(ascii: "\"")
            return 22
        }
        return true
    }
}
