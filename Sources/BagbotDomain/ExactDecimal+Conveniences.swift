/// Literals and the few compound operations money code needs, so call sites say what they mean.
extension ExactDecimal: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// A whole-number literal (`0`, `100_000`); a literal of 10^18 or more is a programming error.
    public init(integerLiteral value: Int) {
        guard let exact = ExactDecimal(value) else { preconditionFailure("\(value) is not below 10^18") }
        self = exact
    }

    /// A decimal literal (`0.1`, `0.00000001`) taken by its digits as written, never by the binary `Double`
    /// the compiler holds it in: that Double's shortest text is the literal's own digits for any literal of up
    /// to 15 significant digits. Meant for defaults and tests; money read from outside comes from text.
    public init(floatLiteral value: Double) {
        guard let exact = ExactDecimal(rounding: value, scale: Self.maximumScale, rounding: .halfEven) else {
            preconditionFailure("\(value) is not a decimal below 10^18")
        }
        self = exact.normalized
    }

    /// The exact product when it needs at most 18 decimals (any price × quantity an exchange sends), else the
    /// product rounded half-even to 18 decimals.
    public func times(_ other: ExactDecimal) throws -> ExactDecimal {
        try multiplied(by: other, scale: min(scale + other.scale, Self.maximumScale), rounding: .halfEven)
    }

    /// The sum of `values` (zero for none).
    public static func sum<S: Sequence>(_ values: S) throws -> ExactDecimal where S.Element == ExactDecimal {
        try values.reduce(ExactDecimal.zero) { try $0 + $1 }
    }

    /// -1, 0 or +1.
    public var signum: Int { mantissa == 0 ? 0 : (mantissa < 0 ? -1 : 1) }

    /// Half of the value, exactly (one more decimal when needed): the mid of a bid and an ask.
    public var halved: ExactDecimal {
        get throws {
            if mantissa % 2 == 0 { return ExactDecimal(mantissa: mantissa / 2, scale: scale) }
            return try multiplied(by: ExactDecimal(mantissa: 5, scale: 1), scale: min(scale + 1, Self.maximumScale), rounding: .halfEven)
        }
    }
}
