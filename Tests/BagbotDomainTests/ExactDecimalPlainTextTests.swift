import BagbotDomain
import Testing

/// API input is read strictly: what the lenient parser also takes (exponents, `+`, a bare point) is refused.
@Suite("ExactDecimal(plainText:)")
struct ExactDecimalPlainTextTests {
    @Test("plain decimals are read exactly, scale as written", arguments: [
        ("0.002", "0.002"), ("0.0020", "0.0020"), ("5", "5"), ("007.50", "7.50"), ("123456789.123456789", "123456789.123456789"),
    ])
    func accepted(text: String, printed: String) throws {
        let value = try #require(ExactDecimal(plainText: text))
        #expect(value.description == printed)
    }

    @Test("exponents, signs, bare points, spaces and other text are refused", arguments: [
        "1e3", "1E3", "2.5e-3", "+5", "-5", ".5", "5.", ".", "", " 5", "5 ", "1,5", "0x10", "5..0", "1.2.3", "--5", "-", "NaN", "١",
        "0.0000000000000000001", "1000000000000000000",
    ])
    func refused(text: String) {
        #expect(ExactDecimal(plainText: text) == nil, "\(text)")
    }

    @Test("a minus sign only where the caller says negative means something")
    func negative() {
        #expect(ExactDecimal(plainText: "-1.5", allowingNegative: true) == ExactDecimal("-1.5"))
        #expect(ExactDecimal(plainText: "-.5", allowingNegative: true) == nil)
        #expect(ExactDecimal(plainText: "+1.5", allowingNegative: true) == nil)
        #expect(ExactDecimal(plainText: "-1.5") == nil)
    }
}
