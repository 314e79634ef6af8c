/// An exact decimal number for money: prices, quantities, fees, balances and P&L. It is an integer count of
/// units of 10^-scale (`mantissa` × 10^-`scale`), so 0.1 + 0.2 is 0.3 and 1e-8 steps add up exactly, which
/// binary floating point cannot promise. The scale is kept as written ("0.00100000" has scale 8 and prints
/// so), as exchanges send and expect decimal strings.
///
/// Why fixed point and not Foundation's `Decimal` (docs/architecture.md, "Money"): parsing and printing are
/// plain integer work with no allocation beyond the string, every operation that could lose a digit names its
/// rounding, and the range is bounded so overflow is refused at the edge instead of rounding silently.
///
/// Bounds: at most 18 decimals, and a magnitude below 10^18, for every value: parsing refuses more, and any
/// arithmetic whose result would leave the range throws `ExactDecimal.Overflow` (so comparisons and alignment
/// of scales can never overflow). Sums and differences are exact; products and quotients take an explicit
/// scale and rounding rule.
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maximumScale = 18
    /// Every value's magnitude is below 10^18.
    public static let integerDigits = 18

    public let mantissa: Int128
    public let scale: Int

    public struct Overflow: Error, CustomStringConvertible {
        public let description: String
    }

    public static let zero = ExactDecimal(mantissa: 0, scale: 0)

    /// `mantissa` × 10^-`scale`; `scale` must be 0...18 and the value below 10^18 in magnitude (a programming
    /// error otherwise: use `checked(mantissa:scale:)` for computed values).
    public init(mantissa: Int128, scale: Int) {
        precondition((0...Self.maximumScale).contains(scale), "scale \(scale) is outside 0...18")
        precondition(mantissa.magnitude < Self.limits[scale], "\(mantissa)e-\(scale) is not below 10^18")
        self.mantissa = mantissa
        self.scale = scale
    }

    /// The value, or `Overflow` when it is not below 10^18 in magnitude.
    public static func checked(mantissa: Int128, scale: Int) throws -> ExactDecimal {
        guard (0...maximumScale).contains(scale) else { throw Overflow(description: "scale \(scale) is outside 0...18") }
        guard mantissa.magnitude < limits[scale] else { throw Overflow(description: "a value of 10^18 or more is out of range") }
        return ExactDecimal(mantissa: mantissa, scale: scale)
    }

    /// A whole number; nil when it is not below 10^18 in magnitude.
    public init?(_ integer: Int) {
        guard let value = try? Self.checked(mantissa: Int128(integer), scale: 0) else { return nil }
        self = value
    }

    // MARK: Text

    /// Parses a plain decimal ("-12.3400", ".5", "7") or one with an exponent ("1e-8", "2.5E3"); nil for
    /// anything else, for more than 18 decimals that are not trailing zeros, or for a magnitude of 10^18 or more.
    public init?(_ text: Substring) {
        var bytes = Array(text.utf8)[...]
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var negative = false
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
            negative = bytes.first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        var exponent = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits.append(byte - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                guard let parsed = Int(String(decoding: bytes[(index + 1)...], as: UTF8.self)), abs(parsed) <= 64 else { return nil }
                exponent = parsed
                break
            } else {
                return nil
            }
            index += 1
        }
        guard !digits.isEmpty else { return nil }
        // value = digits × 10^(exponent - fractionDigits)
        var scale = fractionDigits - exponent
        while scale > Self.maximumScale, digits.last == 0 {
            digits.removeLast()
            scale -= 1
        }
        guard scale <= Self.maximumScale else { return nil }
        if scale < 0 {
            digits.append(contentsOf: repeatElement(0, count: -scale))
            scale = 0
        }
        while digits.count > 1, digits.first == 0 { digits.removeFirst() }
        guard digits.count - scale <= Self.integerDigits else { return nil }
        var mantissa: Int128 = 0
        for digit in digits { mantissa = mantissa * 10 + Int128(digit) }
        self.init(mantissa: negative ? -mantissa : mantissa, scale: scale)
    }

    public init?(_ text: String) {
        self.init(text[...])
    }

    /// Plain notation with exactly `scale` decimals: "0.00100000", "-12.5", "7".
    public var description: String {
        let magnitude = mantissa.magnitude
        var digits = String(magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return mantissa < 0 ? "-" + digits : digits
    }

    // MARK: Comparing

    public static func == (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let (a, b) = aligned(lhs, rhs)
        return a == b
    }

    public func hash(into hasher: inout Hasher) {
        let normal = normalized
        hasher.combine(normal.mantissa)
        hasher.combine(normal.scale)
    }

    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let (a, b) = aligned(lhs, rhs)
        return a < b
    }

    /// The same value with no trailing zero decimals.
    public var normalized: ExactDecimal {
        var mantissa = self.mantissa
        var scale = self.scale
        while scale > 0, mantissa % 10 == 0 {
            mantissa /= 10
            scale -= 1
        }
        return ExactDecimal(mantissa: mantissa, scale: scale)
    }

    public var isZero: Bool { mantissa == 0 }
    public var isNegative: Bool { mantissa < 0 }
    public var isPositive: Bool { mantissa > 0 }
    public var magnitude: ExactDecimal { ExactDecimal(mantissa: mantissa < 0 ? -mantissa : mantissa, scale: scale) }

    // MARK: Arithmetic

    public static func + (lhs: ExactDecimal, rhs: ExactDecimal) throws -> ExactDecimal {
        let (a, b) = aligned(lhs, rhs)
        return try checked(mantissa: a + b, scale: max(lhs.scale, rhs.scale))
    }

    public static func - (lhs: ExactDecimal, rhs: ExactDecimal) throws -> ExactDecimal {
        let (a, b) = aligned(lhs, rhs)
        return try checked(mantissa: a - b, scale: max(lhs.scale, rhs.scale))
    }

    public static prefix func - (value: ExactDecimal) -> ExactDecimal {
        ExactDecimal(mantissa: -value.mantissa, scale: value.scale)
    }

    /// How a result that needs more decimals than asked for is cut.
    public enum Rounding: Sendable {
        /// Toward zero: a quantity is never rounded up past what was asked for.
        case towardZero
        /// Away from zero.
        case awayFromZero
        /// To the nearer neighbour, halves away from zero.
        case halfAwayFromZero
        /// To the nearer neighbour, halves to the even one (banker's rounding).
        case halfEven
        /// Toward minus infinity.
        case down
        /// Toward plus infinity.
        case up
    }

    /// `self` × `other`, with `scale` decimals.
    public func multiplied(by other: ExactDecimal, scale: Int, rounding: Rounding) throws -> ExactDecimal {
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: other.mantissa)
        guard !overflow else { throw Overflow(description: "\(self) × \(other) is out of range") }
        return try Self.rescale(product, from: self.scale + other.scale, to: scale, rounding: rounding)
    }

    /// `self` ÷ `other`, with `scale` decimals; dividing by zero throws.
    public func divided(by other: ExactDecimal, scale: Int, rounding: Rounding) throws -> ExactDecimal {
        guard !other.isZero else { throw Overflow(description: "\(self) ÷ 0") }
        // self / other = (m1 × 10^(s2 + scale - s1) / m2) × 10^-scale
        let shift = other.scale + scale - self.scale
        var numerator = mantissa
        var denominator = other.mantissa
        if shift >= 0 {
            let (scaled, overflow) = numerator.multipliedReportingOverflow(by: try Self.power(shift))
            guard !overflow else { throw Overflow(description: "\(self) ÷ \(other) is out of range") }
            numerator = scaled
        } else {
            let (scaled, overflow) = denominator.multipliedReportingOverflow(by: try Self.power(-shift))
            guard !overflow else { throw Overflow(description: "\(self) ÷ \(other) is out of range") }
            denominator = scaled
        }
        return try Self.checked(mantissa: Self.divide(numerator, denominator, rounding: rounding), scale: scale)
    }

    /// The same value with `scale` decimals (fewer: rounded; more: padded with zeros).
    public func rounded(toScale scale: Int, rounding: Rounding) throws -> ExactDecimal {
        try Self.rescale(mantissa, from: self.scale, to: scale, rounding: rounding)
    }

    /// The nearest multiple of `increment` (a tick size or step size) by `rounding`, with the increment's
    /// scale or this value's, whichever is larger. `increment` must be positive.
    public func rounded(toMultipleOf increment: ExactDecimal, rounding: Rounding) throws -> ExactDecimal {
        guard increment.isPositive else { throw Overflow(description: "increment \(increment) is not positive") }
        let steps = try divided(by: increment, scale: 0, rounding: rounding)
        return try steps.multiplied(by: increment, scale: increment.scale, rounding: .towardZero)
    }

    /// True when this value is a whole number of `increment`s.
    public func isMultiple(of increment: ExactDecimal) -> Bool {
        guard increment.isPositive else { return false }
        let (a, b) = Self.aligned(self, increment)
        return a % b == 0
    }

    // MARK: Double, at the edges only

    /// A `Double` near this value, for strategies that compute in floating point internally. Never for money
    /// that is stored or sent.
    public var doubleValue: Double {
        Double(mantissa) / Self.doublePowers[scale]
    }

    /// The value nearest to `value` with `scale` decimals by `rounding` (a strategy's proposal, say); nil for a
    /// value that is not finite or not below 10^18 in magnitude.
    public init?(rounding value: Double, scale: Int, rounding: Rounding) {
        guard value.isFinite, abs(value) < 1e18, (0...Self.maximumScale).contains(scale) else { return nil }
        // Through the shortest text that reads back as the same Double, then exact decimal rounding: no
        // binary-to-decimal noise beyond what the Double itself carries.
        guard let exact = ExactDecimal(rounding: "\(value)"), let rounded = try? exact.rounded(toScale: scale, rounding: rounding) else {
            return nil
        }
        self = rounded
    }

    /// Parses like `init?(_:)` but keeps any number of decimals by cutting nothing: used only to read a
    /// `Double`'s shortest representation, which may have more than 18 decimals before rounding.
    private init?(rounding text: String) {
        if let plain = ExactDecimal(text) {
            self = plain
            return
        }
        // More than 18 decimals (a tiny value): keep 18, cut toward zero; the caller rounds to fewer anyway.
        guard let value = Double(text), abs(value) < 1 else { return nil }
        let scaled = (value * 1e18).rounded(.towardZero)
        self.init(mantissa: Int128(scaled), scale: Self.maximumScale)
    }

    // MARK: Helpers

    private static let doublePowers: [Double] = (0...maximumScale).map { pow10Double($0) }
    /// 10^(18 + scale): the bound of a mantissa at each scale.
    private static let limits: [UInt128] = (0...maximumScale).map { scale in
        var limit: UInt128 = 1
        for _ in 0..<(integerDigits + scale) { limit *= 10 }
        return limit
    }

    private static func pow10Double(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    static func power(_ exponent: Int) throws -> Int128 {
        guard (0...36).contains(exponent) else { throw Overflow(description: "10^\(exponent) is out of range") }
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    /// Both mantissas at the larger scale. Values within the documented range always fit.
    private static func aligned(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> (Int128, Int128) {
        if lhs.scale == rhs.scale { return (lhs.mantissa, rhs.mantissa) }
        if lhs.scale < rhs.scale {
            return (lhs.mantissa * (try! power(rhs.scale - lhs.scale)), rhs.mantissa)
        }
        return (lhs.mantissa, rhs.mantissa * (try! power(lhs.scale - rhs.scale)))
    }

    private static func rescale(_ mantissa: Int128, from: Int, to: Int, rounding: Rounding) throws -> ExactDecimal {
        guard (0...maximumScale).contains(to) else { throw Overflow(description: "scale \(to) is outside 0...18") }
        if to >= from {
            let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: try power(to - from))
            guard !overflow else { throw Overflow(description: "value out of range at scale \(to)") }
            return try checked(mantissa: scaled, scale: to)
        }
        return try checked(mantissa: divide(mantissa, try power(from - to), rounding: rounding), scale: to)
    }

    /// numerator ÷ denominator as an integer, by `rounding`.
    private static func divide(_ numerator: Int128, _ denominator: Int128, rounding: Rounding) -> Int128 {
        let quotient = numerator / denominator
        let remainder = numerator % denominator
        guard remainder != 0 else { return quotient }
        let negative = (numerator < 0) != (denominator < 0)
        let awayFromZero = negative ? quotient - 1 : quotient + 1
        switch rounding {
        case .towardZero:
            return quotient
        case .awayFromZero:
            return awayFromZero
        case .down:
            return negative ? awayFromZero : quotient
        case .up:
            return negative ? quotient : awayFromZero
        case .halfAwayFromZero, .halfEven:
            let twiceRemainder = remainder.magnitude * 2
            let divisor = denominator.magnitude
            if twiceRemainder > divisor { return awayFromZero }
            if twiceRemainder < divisor { return quotient }
            if rounding == .halfAwayFromZero { return awayFromZero }
            return quotient % 2 == 0 ? quotient : awayFromZero
        }
    }
}

extension ExactDecimal: Codable {
    /// A JSON string ("0.00100000"), never a JSON number: a number would pass through a `Double` in most
    /// decoders and lose exactly what this type exists to keep.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ExactDecimal(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an exact decimal: \(text.prefix(40))")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
