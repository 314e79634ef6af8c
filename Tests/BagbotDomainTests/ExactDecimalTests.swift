import BagbotDomain
import Foundation
import Testing

/// A decimal from a literal the test knows to be valid. No `ExpressibleByStringLiteral`: with it,
/// `ExactDecimal("1.2.3")` would become a literal (SE-0213) and trap instead of returning nil.
private func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

@Suite("ExactDecimal: exact money")
struct ExactDecimalTests {
    @Test("text round-trips with the scale it was written with", arguments: [
        "0", "7", "-7", "0.1", "0.00100000", "9549.76", "-0.000000000000000001", "999999999999999999.999999999999999999",
        "123456789.12345678",
    ])
    func roundTrip(text: String) throws {
        let value = try #require(ExactDecimal(text))
        #expect(value.description == text)
    }

    @Test("other spellings read as their plain value")
    func spellings() {
        #expect(ExactDecimal("+1.50")?.description == "1.50")
        #expect(ExactDecimal(".5")?.description == "0.5")
        #expect(ExactDecimal("5.")?.description == "5")
        #expect(ExactDecimal("007.10")?.description == "7.10")
        #expect(ExactDecimal("1e-8")?.description == "0.00000001")
        #expect(ExactDecimal("2.5E3")?.description == "2500")
        #expect(ExactDecimal("1.000000000000000000000")?.description == "1.000000000000000000", "trailing zeros past 18 decimals are dropped")
    }

    @Test("anything else is refused", arguments: [
        "", "-", ".", "1.2.3", "1,5", "1e", "e5", " 1", "1 ", "0x10", "NaN", "inf", "1e99",
        "0.0000000000000000001", "1000000000000000000", "1e18", String(repeating: "1", count: 70),
    ])
    func refused(text: String) {
        #expect(ExactDecimal(text) == nil, "\(text)")
    }

    @Test("what binary floating point gets wrong is exact here")
    func whatDoubleGetsWrong() throws {
        #expect(0.1 + 0.2 != 0.3)
        #expect(try d("0.1") + d("0.2") == d("0.3"))
        var sum = ExactDecimal.zero
        for _ in 0..<1_000 { sum = try sum + d("0.00000001") }
        #expect(sum == d("0.00001"))
        #expect(sum.description == "0.00001000")
        var doubleSum = 0.0
        for _ in 0..<1_000 { doubleSum += 0.00000001 }
        #expect(doubleSum != 0.00001)
        #expect(try d("95.49760880").multiplied(by: d("100"), scale: 8, rounding: .towardZero) == d("9549.760880"))
    }

    @Test("equal values are equal and hash alike whatever their scale; order is by value")
    func comparing() {
        #expect(d("1.0") == d("1"))
        #expect(d("1.0").hashValue == d("1.000").hashValue)
        #expect(Set([d("2.50"), d("2.5"), d("2.500")]).count == 1)
        #expect(d("-0.01") < d("0"))
        #expect(d("0.000000000000000001") < d("0.00000000000000001"))
        #expect(d("999999999999999999") > d("999999999999999998.999999999999999999"))
        #expect(d("1.50").normalized.description == "1.5")
    }

    @Test("products and quotients round only as asked", arguments: [
        ("2.5", "0.5", 0, ExactDecimal.Rounding.towardZero, "1"),
        ("2.5", "0.5", 0, .halfAwayFromZero, "1"),
        ("2.5", "0.5", 2, .towardZero, "1.25"),
        ("-2.5", "0.5", 0, .halfAwayFromZero, "-1"),
        ("-2.5", "0.5", 0, .down, "-2"),
        ("-2.5", "0.5", 0, .up, "-1"),
        ("3.5", "1", 0, .halfEven, "4"),
        ("2.5", "1", 0, .halfEven, "2"),
        ("2.5", "1", 0, .awayFromZero, "3"),
    ])
    func multiply(a: String, b: String, scale: Int, rounding: ExactDecimal.Rounding, expected: String) throws {
        #expect(try d(a).multiplied(by: d(b), scale: scale, rounding: rounding) == d(expected))
    }

    @Test("division")
    func division() throws {
        #expect(try d("1").divided(by: d("3"), scale: 8, rounding: .halfEven).description == "0.33333333")
        #expect(try d("2").divided(by: d("3"), scale: 8, rounding: .halfEven).description == "0.66666667")
        #expect(try d("-2").divided(by: d("3"), scale: 2, rounding: .towardZero).description == "-0.66")
        #expect(try d("10").divided(by: d("0.25"), scale: 0, rounding: .towardZero) == d("40"))
        #expect(throws: ExactDecimal.Overflow.self) { try d("1").divided(by: .zero, scale: 2, rounding: .halfEven) }
    }

    @Test("to a tick or step size: quantities toward zero, prices to the nearest")
    func increments() throws {
        #expect(try d("0.123456789").rounded(toMultipleOf: d("0.00001"), rounding: .towardZero).description == "0.12345")
        #expect(try d("-0.123456789").rounded(toMultipleOf: d("0.00001"), rounding: .towardZero).description == "-0.12345")
        #expect(try d("9549.765").rounded(toMultipleOf: d("0.01"), rounding: .halfEven).description == "9549.76")
        #expect(try d("101.26").rounded(toMultipleOf: d("0.5"), rounding: .halfAwayFromZero).description == "101.5")
        #expect(try d("101.24").rounded(toMultipleOf: d("0.5"), rounding: .halfAwayFromZero).description == "101.0")
        #expect(d("0.00120").isMultiple(of: d("0.0001")))
        #expect(!d("0.00125").isMultiple(of: d("0.0001")))
        #expect(!d("1").isMultiple(of: .zero))
    }

    @Test("leaving the range throws instead of wrapping or trapping")
    func overflow() {
        let big = d("999999999999999999")
        #expect(throws: ExactDecimal.Overflow.self) { try big + d("1") }
        #expect(throws: ExactDecimal.Overflow.self) { try -big - d("1") }
        #expect(throws: ExactDecimal.Overflow.self) { try big.multiplied(by: d("10"), scale: 0, rounding: .towardZero) }
        #expect(throws: ExactDecimal.Overflow.self) { try d("1").rounded(toScale: 19, rounding: .towardZero) }
        #expect(ExactDecimal(Int.max) == nil)
        #expect(ExactDecimal(42) == d("42"))
    }

    @Test("JSON carries a string, and a JSON number is refused (it would pass through a Double)")
    func json() throws {
        struct Body: Codable, Equatable { var price: ExactDecimal }
        let data = try JSONEncoder().encode(Body(price: d("0.00100000")))
        #expect(String(decoding: data, as: UTF8.self) == #"{"price":"0.00100000"}"#)
        #expect(try JSONDecoder().decode(Body.self, from: data) == Body(price: d("0.001")))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Body.self, from: Data(#"{"price":0.1}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Body.self, from: Data(#"{"price":"1e999"}"#.utf8)) }
    }

    @Test("Double at the edges: a strategy's number rounded to a scale, and back for its own computations")
    func doubles() {
        #expect(ExactDecimal(rounding: 9549.760880375949, scale: 2, rounding: .halfEven)?.description == "9549.76")
        #expect(ExactDecimal(rounding: 0.1 + 0.2, scale: 8, rounding: .halfEven)?.description == "0.30000000")
        #expect(ExactDecimal(rounding: 0.000012345, scale: 5, rounding: .towardZero)?.description == "0.00001")
        #expect(ExactDecimal(rounding: 1e-20, scale: 8, rounding: .towardZero)?.description == "0.00000000")
        #expect(ExactDecimal(rounding: .nan, scale: 2, rounding: .halfEven) == nil)
        #expect(ExactDecimal(rounding: 1e18, scale: 0, rounding: .halfEven) == nil)
        #expect(d("9549.76").doubleValue == 9549.76)
        #expect(d("-0.00000001").doubleValue == -0.00000001)
    }

    @Test("random sums, differences and products agree with integer arithmetic")
    func randomArithmetic() throws {
        var random = SplitMix64(seed: 0xB46B07)
        for _ in 0..<2_000 {
            let scaleA = Int.random(in: 0...8, using: &random)
            let scaleB = Int.random(in: 0...8, using: &random)
            let a = ExactDecimal(mantissa: Int128(Int64.random(in: -100_000_000...100_000_000, using: &random)), scale: scaleA)
            let b = ExactDecimal(mantissa: Int128(Int64.random(in: -100_000_000...100_000_000, using: &random)), scale: scaleB)
            #expect(try (a + b) - b == a)
            #expect(try a - a == .zero)
            #expect(try (a + b) == (b + a))
            let product = try a.multiplied(by: b, scale: scaleA + scaleB, rounding: .towardZero)
            #expect(product.mantissa == a.mantissa * b.mantissa, "an exact product needs no rounding")
            if !b.isZero {
                #expect(try product.divided(by: b, scale: scaleA, rounding: .towardZero) == a)
            }
            #expect(ExactDecimal(a.description) == a)
        }
    }

    // Found by a differential review against 400-digit decimal arithmetic.

    @Test("an exponent of Int.min is refused, not a crash (it arrives through JSON too)")
    func hugeExponent() throws {
        #expect(ExactDecimal("1e-9223372036854775808") == nil)
        #expect(ExactDecimal("1e9223372036854775807") == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ExactDecimal].self, from: Data(#"["1e-9223372036854775808"]"#.utf8))
        }
    }

    @Test("a zero written with a small exponent is zero", arguments: ["0e-20", "0E-25", "0.0e-30", "-0e-40"])
    func zeroExponent(text: String) {
        #expect(ExactDecimal(text) == .zero)
    }

    @Test("products and quotients that fit are computed even when the operands carry many decimals")
    func wideIntermediates() throws {
        #expect(try d("1000.000000000000000000").multiplied(by: d("3000.000000000000000000"), scale: 2, rounding: .towardZero) == d("3000000"))
        #expect(try d("1000000.000000000000000000").multiplied(by: d("0.000001000000000000"), scale: 0, rounding: .towardZero) == d("1"))
        #expect(try d("883362318182566.073864713071581432").multiplied(by: d("0.944704928972439437"), scale: 12, rounding: .halfEven)
                == d("834516736055590.529026075860"))
        #expect(try d("1000000.000000000000000000").divided(by: d("2.000000000000000000"), scale: 18, rounding: .towardZero) == d("500000"))
        #expect(try d("-999999999999999999.99").divided(by: d("4214174271.721596509607"), scale: 12, rounding: .towardZero)
                == d("-237294410.606202759370"))
        #expect(throws: ExactDecimal.Overflow.self) { try d("1.5").divided(by: d("3"), scale: .min, rounding: .towardZero) }
        #expect(throws: ExactDecimal.Overflow.self) { try d("1").divided(by: d("0.5"), scale: .max, rounding: .towardZero) }
    }

    @Test("fine increments and values far from zero round to a multiple without overflowing")
    func fineIncrements() throws {
        #expect(try d("1").rounded(toMultipleOf: d("0.000000000000000001"), rounding: .towardZero) == d("1"))
        #expect(try d("1000000").rounded(toMultipleOf: d("0.000000000001"), rounding: .halfEven) == d("1000000"))
        #expect(try d("999999999999999999.99").rounded(toMultipleOf: d("0.5"), rounding: .towardZero) == d("999999999999999999.5"))
        #expect(try d("-0.123456789").rounded(toMultipleOf: d("0.25"), rounding: .down) == d("-0.25"))
    }

    @Test("a Double is rounded from its own decimal digits, in every direction", arguments: [
        (1e-20, 8, ExactDecimal.Rounding.up, "0.00000001"),
        (-5e-324, 8, .down, "-0.00000001"),
        (6e-19, 18, .halfEven, "0.000000000000000001"),
        ((1e-5).nextUp, 8, .up, "0.00001001"),
        (1.2345678901234567e-05, 18, .halfEven, "0.000012345678901235"),
        (0.0007887338476642839, 18, .towardZero, "0.000788733847664283"),
        (0.0056417763152597595, 17, .towardZero, "0.00564177631525975"),
        (1e+16, 2, .towardZero, "10000000000000000.00"),
        (-0.0, 2, .halfEven, "0.00"),
    ])
    func fromDouble(value: Double, scale: Int, rounding: ExactDecimal.Rounding, expected: String) {
        #expect(ExactDecimal(rounding: value, scale: scale, rounding: rounding)?.description == expected)
    }

    @Test("doubleValue is the Double nearest to the value", arguments: [
        "2084297488633186.09", "-0.040172597291185500", "-460000000.00000000000000000", "0.1", "123456789.123456789",
    ])
    func nearestDouble(text: String) {
        #expect(d(text).doubleValue == Double(text)!)
    }

    @Test("doubleValue with trailing zeros (not normalised first) is still the nearest Double, for seeded random values")
    func nearestDoubleWithTrailingZeros() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let mantissa = Int64(bitPattern: random.next()) % (1 << 53)
            let scale = Int(random.next() % 19)
            let zeros = Int(random.next() % 4)
            let value = ExactDecimal(mantissa: Int128(mantissa), scale: scale)
            // The same value written with trailing zeros, when they fit.
            let padded = (try? value.rounded(toScale: min(18, scale + zeros), rounding: .halfEven)) ?? value
            #expect(value.doubleValue == Double(value.description)!, "\(value)")
            #expect(padded.doubleValue == value.doubleValue, "\(padded)")
        }
    }
}
