import BagbotDomain

/// The shapes the document's schemas are made of. Money is never a JSON number: every amount is a decimal string
/// (`ExactDecimal`'s encoding, "0.00100000"), so its schema is a string with a decimal pattern.
extension OpenAPISchema {
    static func ref(_ name: String) -> OpenAPISchema { OpenAPISchema(ref: "#/components/schemas/\(name)") }

    static func string(_ description: String? = nil, pattern: String? = nil, format: String? = nil, minLength: Int? = nil,
                       maxLength: Int? = nil) -> OpenAPISchema {
        OpenAPISchema(types: ["string"], format: format, pattern: pattern, description: description, minLength: minLength, maxLength: maxLength)
    }

    /// One of `values` (an enum's raw values, taken from the Swift type wherever the gateway can see it).
    static func choice(_ values: [String], _ description: String? = nil) -> OpenAPISchema {
        OpenAPISchema(types: ["string"], description: description, enumValues: values)
    }

    static func integer(_ description: String? = nil, minimum: Int? = nil, maximum: Int? = nil, default value: Int? = nil) -> OpenAPISchema {
        OpenAPISchema(types: ["integer"], description: description, minimum: minimum, maximum: maximum,
                      defaultValue: value.map { .number(Double($0)) })
    }

    /// A JSON number: ratios and tuning values only, never money.
    static func number(_ description: String? = nil) -> OpenAPISchema { OpenAPISchema(types: ["number"], description: description) }

    static func boolean(_ description: String? = nil) -> OpenAPISchema { OpenAPISchema(types: ["boolean"], description: description) }

    /// A non-negative amount (a price, an order's quantity, a fee paid): digits with an optional fraction.
    static func decimal(_ description: String? = nil) -> OpenAPISchema {
        string(description, pattern: #"^[0-9]+(\.[0-9]+)?$"#)
    }

    /// An amount that may be negative (P&L, a position's signed size, a margin balance).
    static func signedDecimal(_ description: String? = nil) -> OpenAPISchema {
        string(description, pattern: #"^-?[0-9]+(\.[0-9]+)?$"#)
    }

    /// An ISO 8601 time in UTC (RFC 3339), as every API time is written.
    static func dateTime(_ description: String? = nil) -> OpenAPISchema { string(description, format: "date-time") }

    static func array(_ items: OpenAPISchema, _ description: String? = nil) -> OpenAPISchema {
        OpenAPISchema(types: ["array"], description: description, items: Nested(items))
    }

    /// An object with exactly these fields: `required` always present, `optional` left out when they have no value
    /// (the API never writes `null`). `open`: other fields may appear (a daemon's answer passed through as it is).
    static func object(_ description: String? = nil, required: [String: OpenAPISchema] = [:], optional: [String: OpenAPISchema] = [:],
                       open: Bool = false) -> OpenAPISchema {
        OpenAPISchema(types: ["object"], description: description,
                      properties: required.merging(optional) { first, _ in first },
                      required: required.isEmpty ? nil : required.keys.sorted(),
                      additionalProperties: open ? nil : .allowed(false))
    }

    /// An object used as a map: any keys, each value of `values`.
    static func map(_ values: OpenAPISchema, _ description: String? = nil) -> OpenAPISchema {
        OpenAPISchema(types: ["object"], description: description, additionalProperties: .schema(Nested(values)))
    }

    /// The same schema, described (a `$ref` keeps its target and gains the sentence).
    func described(_ text: String) -> OpenAPISchema {
        var copy = self
        copy.description = text
        return copy
    }

    /// The same schema, also allowing `null` (a request field whose null means "keep the default").
    var orNull: OpenAPISchema {
        var copy = self
        copy.types = TypeNames((types?.names ?? []) + ["null"])
        return copy
    }

    /// An error body (`Error`, or another body carrying `error`) whose `error.code` is one of `codes`.
    static func error(codes: [String], body: OpenAPISchema = .ref("Error")) -> OpenAPISchema {
        let code = OpenAPISchema(types: ["string"], enumValues: codes)
        let constraint = OpenAPISchema(properties: ["error": OpenAPISchema(properties: ["code": code])])
        return OpenAPISchema(allOf: [body, constraint])
    }
}
