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

    /// Parses a plain decimal ("-12.3400", ".5", "7") or one with an exponent ("1e-8", "2.5E3", "0E-20"); nil
    /// for anything else, for more than 18 decimals that are not trailing zeros, for a magnitude of 10^18 or
    /// more, for an exponent beyond ±64, and for text longer than 64 bytes (no price or quantity needs more).
    public init?(_ text: Substring) {
        // Plain notation of at most 18 digits (every price and quantity a feed or venue sends) needs no
        // buffer: a replay parses millions of them.
        if let plain = Self.plain(text.utf8) {
            self = plain
            return
        }
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
                guard let parsed = Int(String(decoding: bytes[(index + 1)...], as: UTF8.self)), (-64...64).contains(parsed) else { return nil }
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
        while scale > Self.maximumScale, (digits.last ?? 0) == 0 {
            _ = digits.popLast()
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

    /// "-12.3400", ".5", "7" with at most 18 digits in all, parsed without allocating; nil for anything else
    /// (the general parser then decides).
    /// The text in `bytes` (UTF-8), as `init?(_ text:)` reads it; plain decimals parse without allocating.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        if let plain = Self.plain(bytes) {
            self = plain
            return
        }
        self.init(String(decoding: bytes, as: UTF8.self))
    }

    @inline(__always)
    static func plain<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> ExactDecimal? {
        var index = bytes.startIndex
        guard index < bytes.endIndex, bytes.count <= 20 else { return nil }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index = bytes.index(after: index)
        }
        var mantissa: Int64 = 0
        var digits = 0
        var fractionDigits = 0
        var seenPoint = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte &- UInt8(ascii: "0") < 10 {
                mantissa = mantissa &* 10 &+ Int64(byte &- UInt8(ascii: "0"))
                digits += 1
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else {
                return nil
            }
            index = bytes.index(after: index)
        }
        guard digits > 0, digits <= 18 else { return nil }
        return ExactDecimal(mantissa: Int128(negative ? -mantissa : mantissa), scale: fractionDigits)
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
        guard (0...Self.maximumScale).contains(scale) else { throw Overflow(description: "scale \(scale) is outside 0...18") }
        let negative = (mantissa < 0) != (other.mantissa < 0)
        let (high, low) = mantissa.magnitude.multipliedFullWidth(by: other.mantissa.magnitude)
        let from = self.scale + other.scale
        if scale >= from {
            guard high == 0, low <= UInt128(Int128.max) else { throw Overflow(description: "\(self) × \(other) is out of range") }
            return try Self.rescale(negative ? -Int128(low) : Int128(low), from: from, to: scale, rounding: rounding)
        }
        guard let q = Self.divideWide(negative: negative, high, low, by: UInt128(try Self.power(from - scale)), rounding: rounding) else {
            throw Overflow(description: "\(self) × \(other) is out of range")
        }
        return try Self.checked(mantissa: q, scale: scale)
    }

    /// `self` ÷ `other`, with `scale` decimals; dividing by zero throws.
    public func divided(by other: ExactDecimal, scale: Int, rounding: Rounding) throws -> ExactDecimal {
        guard !other.isZero else { throw Overflow(description: "\(self) ÷ 0") }
        guard (0...Self.maximumScale).contains(scale) else { throw Overflow(description: "scale \(scale) is outside 0...18") }
        // self / other = (m1 × 10^(s2 + scale - s1) / m2) × 10^-scale
        let shift = other.scale + scale - self.scale
        var numerator = mantissa
        var denominator = other.mantissa
        if shift >= 0 {
            let (high, low) = numerator.magnitude.multipliedFullWidth(by: try Self.power(shift).magnitude)
            let negative = (numerator < 0) != (denominator < 0)
            guard let q = Self.divideWide(negative: negative, high, low, by: denominator.magnitude, rounding: rounding) else {
                throw Overflow(description: "\(self) ÷ \(other) is out of range")
            }
            return try Self.checked(mantissa: q, scale: scale)
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
    /// scale. `increment` must be positive.
    public func rounded(toMultipleOf increment: ExactDecimal, rounding: Rounding) throws -> ExactDecimal {
        guard increment.isPositive else { throw Overflow(description: "increment \(increment) is not positive") }
        let (a, b) = Self.aligned(self, increment)
        return try Self.rescale(Self.divide(a, b, rounding: rounding) * b, from: max(scale, increment.scale), to: increment.scale, rounding: .towardZero)
    }

    /// True when this value is a whole number of `increment`s.
    public func isMultiple(of increment: ExactDecimal) -> Bool {
        guard increment.isPositive else { return false }
        let (a, b) = Self.aligned(self, increment)
        return a % b == 0
    }

    // MARK: Double, at the edges only

    /// The `Double` nearest to this value, for strategies that compute in floating point internally. Never for
    /// money that is stored or sent.
    public var doubleValue: Double {
        // Exact integer, then one correctly rounded division by an exact power of ten (the same quotient with or
        // without trailing zeros, so no normalising: strategies call this on every tick). Through Int64: Int128's
        // generic conversion to Double costs more than the rest of a tick.
        if mantissa.magnitude <= 1 << 53 { return Double(Int64(truncatingIfNeeded: mantissa)) / Self.doublePowers[scale] }
        let normal = normalized
        // Past 2^53 the parse of the decimal text is the correctly rounded one.
        if normal.mantissa.magnitude <= 1 << 53 { return Double(Int64(truncatingIfNeeded: normal.mantissa)) / Self.doublePowers[normal.scale] }
        return Double(normal.description) ?? Double(normal.mantissa) / Self.doublePowers[normal.scale]
    }

    /// The value nearest to `value` with `scale` decimals by `rounding` (a strategy's proposal, say); nil for a
    /// value that is not finite or not below 10^18 in magnitude. Exact: the Double's shortest decimal text
    /// (the digits that read back as the same Double) is rounded as a decimal, never through binary arithmetic.
    public init?(rounding value: Double, scale: Int, rounding: Rounding) {
        guard value.isFinite, abs(value) < 1e18, (0...Self.maximumScale).contains(scale) else { return nil }
        guard let (digits, exponent) = Self.shortestDigits(of: value) else { return nil }
        // value = digits × 10^exponent; wanted: the mantissa digits × 10^(exponent + scale), rounded.
        let shift = exponent + scale
        let mantissa: Int128
        if shift >= 0 {
            guard let power = try? Self.power(shift) else { return nil }
            let (product, overflow) = digits.multipliedReportingOverflow(by: power)
            guard !overflow else { return nil }
            mantissa = product
        } else {
            // digits has at most 17 significant digits, so for shifts past 36 the quotient is 0 with a remainder
            // below one half, exactly as with 10^36: the rounding sees the same case.
            mantissa = Self.divide(digits, (try? Self.power(min(-shift, 36))) ?? 1, rounding: rounding)
        }
        guard let result = try? Self.checked(mantissa: mantissa, scale: scale) else { return nil }
        self = result
    }

    /// A finite Double's shortest text ("-1.2345e-05", "9549.760880375949", "1e+16") as signed digits and a
    /// power of ten.
    private static func shortestDigits(of value: Double) -> (digits: Int128, exponent: Int)? {
        var text = Substring("\(value)")
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let parsed = Int(text[text.index(after: e)...]) else { return nil }
            exponent = parsed
            text = text[..<e]
        }
        let negative = text.first == "-"
        if negative { text = text.dropFirst() }
        var digits: Int128 = 0
        var count = 0
        var seenPoint = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < 36 else { return nil }
            digits = digits * 10 + Int128(byte - UInt8(ascii: "0"))
            count += 1
            if seenPoint { exponent -= 1 }
        }
        guard count > 0 else { return nil }
        return (negative ? -digits : digits, exponent)
    }

    /// (high, low) ÷ divisor, magnitudes, signed by `negative` and rounded by `rounding`; nil when it does not fit.
    private static func divideWide(negative: Bool, _ high: UInt128, _ low: UInt128, by divisor: UInt128, rounding: Rounding) -> Int128? {
        guard high < divisor else { return nil }
        let (q, r) = divisor.dividingFullWidth((high, low))
        guard q < UInt128(Int128.max) else { return nil }
        var m = q
        if r != 0 {
            let up: Bool
            switch rounding {
            case .towardZero: up = false
            case .awayFromZero: up = true
            case .down: up = negative
            case .up: up = !negative
            case .halfAwayFromZero: up = r >= divisor - r
            case .halfEven: up = r > divisor - r || (r == divisor - r && q % 2 == 1)
            }
            if up { m += 1 }
        }
        return negative ? -Int128(m) : Int128(m)
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
        return powersOfTen[exponent]
    }

    /// 10^0 … 10^36, computed once: every rescaling and rounding asks for one.
    private static let powersOfTen: [Int128] = (0...36).reduce(into: []) { table, exponent in
        table.append(exponent == 0 ? 1 : table[exponent - 1] * 10)
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
    /// Set to `true` in a decoder's `userInfo` to also read a JSON number (by its shortest digits): only for
    /// files this program wrote before money was exact, never for input from a socket or the network.
    public static let acceptsLegacyNumbers = CodingUserInfoKey(rawValue: "bagbot.exactDecimal.acceptsLegacyNumbers")!

    /// A JSON string ("0.00100000"), never a JSON number: a number would pass through a `Double` in most
    /// decoders and lose exactly what this type exists to keep.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if decoder.userInfo[Self.acceptsLegacyNumbers] as? Bool == true, let number = try? container.decode(Double.self),
           let value = ExactDecimal(rounding: number, scale: Self.maximumScale, rounding: .halfEven) {
            self = value.normalized
            return
        }
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
