import Foundation
import NIOCore
import BagbotDomain
import Testing
@testable import BagbotIPC

/// The API's JSON is JSONEncoder's (ISO 8601 dates, sorted keys, slashes not escaped) byte for byte, whichever of
/// the stream writer or JSONEncoder wrote it: the writer is compared with JSONEncoder on seeded random values, and
/// must not decline the shapes the API answers with.
@Suite("APIJSON writes what JSONEncoder writes")
struct APIJSONTests {
    static func foundation<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try APIJSON.makeFoundationEncoder().encode(value), as: UTF8.self)
    }

    /// The stream writer's text; nil when it declined.
    static func fast<T: Encodable>(_ value: T) -> String? {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        guard FastJSON.encode(value, style: .api, appendingTo: &buffer) else { return nil }
        return String(buffer: buffer)
    }

    static func check<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try foundation(value)
        let written = try #require(fast(value), "declined \(value)", sourceLocation: sourceLocation)
        #expect(written == expected, sourceLocation: sourceLocation)
        #expect(String(decoding: try APIJSON.data(value), as: UTF8.self) == expected, sourceLocation: sourceLocation)
    }

    struct Stamped: Encodable { var at: Date }

    @Test("dates from 1601 to 9999, fractions near whole seconds included, as JSONEncoder's .iso8601 writes them")
    func dates() throws {
        var random = SplitMix64(seed: 0xDA7E)
        let first = -11_644_473_600.0, last = 253_402_300_799.0  // 1601-01-01 and 9999-12-31T23:59:59, since 1970
        var samples: [Double] = [first, last, 0, -0.5, -1, 86_399.999_999_9, 951_782_400, 951_868_799.75, 4_107_542_400]
        for _ in 0..<20_000 {
            let whole = (random.uniform(first, last)).rounded(.down)
            samples.append(whole)
            samples.append(whole + random.nextUnit())
            samples.append(whole - 1e-6 * random.nextUnit())
            samples.append(whole + 1 - 1e-9)
        }
        // Around now, where the API's dates are.
        for _ in 0..<20_000 { samples.append(random.uniform(1_700_000_000, 1_900_000_000)) }
        var mismatches: [String] = []
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            let expected = try Self.foundation(Stamped(at: date))
            guard let written = Self.fast(Stamped(at: date)) else {
                if seconds >= first, seconds < last { mismatches.append("declined \(seconds)") }
                continue
            }
            if written != expected { mismatches.append("\(seconds): \(written) ≠ \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(samples.count): \(mismatches.prefix(5))")
    }

    @Test("dates before 1601 or from 10000 on go to JSONEncoder, which writes them its own way (Julian, five digits)")
    func datesOutsideTheRange() throws {
        for seconds in [-11_644_473_601.0, -62_135_596_800, 253_402_300_800, 1e12, -1e12] {
            let value = Stamped(at: Date(timeIntervalSince1970: seconds))
            #expect(Self.fast(value) == nil)
            #expect(String(decoding: try APIJSON.data(value), as: UTF8.self) == (try Self.foundation(value)))
        }
    }

    struct Unordered: Encodable {
        struct Inner: Encodable {
            var zeta = 1, Alpha = "A", alpha = "a", _under = true
            var list: [Inner2] = [Inner2(), Inner2(b: 3, a: nil)]
        }
        struct Inner2: Encodable {
            var b = 2
            var a: String? = "x/y"
        }
        var tier = "pro", owner = "o", a10 = 10, a9 = 9, é = "é", e = "e"
        var inner = Inner()
        var empty: [String: Int] = [:]
        var when = Date(timeIntervalSince1970: 1_733_353_159.75)
        var money = ExactDecimal("0.00100000")!
    }

    @Test("members in declaration order, nested objects, arrays of objects, optionals: sorted as JSONEncoder sorts")
    func sortedMembers() throws {
        try Self.check(Unordered())
        try Self.check([Unordered(), Unordered()])
        try Self.check(["b": Unordered.Inner2(), "a": Unordered.Inner2(b: 0, a: nil)])
    }

    /// A random tree: objects with keys of ASCII letters, digits, punctuation and non-ASCII, numbers of every size.
    static func randomValue(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        switch random.next() % (depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2:
            let kinds = [random.uniform(-1e6, 1e6), Double(Int64(bitPattern: random.next()) >> 20), random.uniform(0, 1) * 1e-9,
                         random.uniform(0, 1) * 1e300, 0.1, 1]
            return .number(kinds[Int(random.next() % UInt64(kinds.count))])
        case 3: return .string(randomKey(&random) + "\"\\/\n\u{7f}\u{2028}")
        case 4: return .array((0..<Int(random.next() % 5)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int(random.next() % 12) { object[randomKey(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(object)
        }
    }

    static func randomKey(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "A", "b", "Z", "_", "-", "0", "9", "10", "é", "e\u{301}", "ß", "日", "😀", " ", "~", "$"]
        return (0..<Int(1 + random.next() % 4)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    @Test("random trees of objects, arrays, strings and numbers: the same bytes as JSONEncoder")
    func randomTrees() throws {
        var random = SplitMix64(seed: 0x50E7ED)
        for _ in 0..<3_000 {
            let value = Self.randomValue(&random, depth: 0)
            try Self.check(value)
        }
    }

    struct Twice: Encodable {
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode(1, forKey: AnyKey("b"))
            try container.encode(2, forKey: AnyKey("a"))
            try container.encode(3, forKey: AnyKey("b"))
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    @Test("what the writer cannot write as JSONEncoder does (a key twice, Data) is JSONEncoder's answer")
    func declinedValues() throws {
        #expect(Self.fast(Twice()) == nil)
        #expect(String(decoding: try APIJSON.data(Twice()), as: UTF8.self) == (try Self.foundation(Twice())))
        let data = ["blob": Data([1, 2, 3])]
        #expect(Self.fast(data) == nil)
        #expect(String(decoding: try APIJSON.data(data), as: UTF8.self) == (try Self.foundation(data)))
    }
}
