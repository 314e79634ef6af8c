import HTTPTypes
import BagbotDomain

/// The pieces of an OpenAPI 3.1 document that `GET /openapi.json` uses, as Swift values that encode to the
/// document's JSON (field names as the specification spells them). Only what the gateway's document needs; each
/// optional field is left out of the JSON when nil.

/// A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect). Builders for the common shapes are in
/// `OpenAPISchema+Builders.swift`.
struct OpenAPISchema: Encodable, Sendable {
    var ref: String?
    /// One type, or a type and `null` for a field that may be sent as null.
    var types: TypeNames?
    var format: String?
    var pattern: String?
    var description: String?
    var enumValues: [String]?
    var properties: [String: OpenAPISchema]?
    var required: [String]?
    /// Whether an object may carry fields not in `properties`, or the schema of a map's values.
    var additionalProperties: Additional?
    /// The schema of an array's items.
    var items: Nested?
    var allOf: [OpenAPISchema]?
    var anyOf: [OpenAPISchema]?
    var minimum: Int?
    var maximum: Int?
    var minLength: Int?
    var maxLength: Int?
    var minProperties: Int?
    var defaultValue: JSONValue?

    enum CodingKeys: String, CodingKey {
        case ref = "$ref", types = "type", format, pattern, description, enumValues = "enum", properties, required
        case additionalProperties, items, allOf, anyOf, minimum, maximum, minLength, maxLength, minProperties
        case defaultValue = "default"
    }

    /// `"string"`, or `["integer", "null"]`.
    struct TypeNames: Encodable, Sendable, ExpressibleByArrayLiteral {
        var names: [String]

        init(arrayLiteral names: String...) { self.names = names }
        init(_ names: [String]) { self.names = names }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            if names.count == 1 { try container.encode(names[0]) } else { try container.encode(names) }
        }
    }

    /// One schema inside another (held in an array, since a struct cannot hold itself), encoded as the schema.
    struct Nested: Encodable, Sendable {
        private let held: [OpenAPISchema]

        init(_ schema: OpenAPISchema) { held = [schema] }

        func encode(to encoder: Encoder) throws { try held[0].encode(to: encoder) }
    }

    enum Additional: Encodable, Sendable {
        case allowed(Bool)
        case schema(Nested)

        func encode(to encoder: Encoder) throws {
            switch self {
            case .allowed(let allowed):
                var container = encoder.singleValueContainer()
                try container.encode(allowed)
            case .schema(let schema): try schema.encode(to: encoder)
            }
        }
    }
}

/// A header of a response, or a reference to one in `components.headers`.
struct OpenAPIHeader: Encodable, Sendable {
    var ref: String?
    var description: String?
    var required: Bool?
    var schema: OpenAPISchema?

    enum CodingKeys: String, CodingKey { case ref = "$ref", description, required, schema }

    static func ref(_ name: String) -> OpenAPIHeader { OpenAPIHeader(ref: "#/components/headers/\(name)") }
}

/// A named example of a body: the exact JSON a route answers in the situation its summary names (checked
/// against the routes by `OpenAPITests`).
struct OpenAPIExample: Encodable, Sendable {
    var summary: String
    var value: JSONValue
}

struct OpenAPIMediaType: Encodable, Sendable {
    var schema: OpenAPISchema
    var examples: [String: OpenAPIExample]?
}

/// A response, or a reference to one in `components.responses`.
struct OpenAPIResponse: Encodable, Sendable {
    var ref: String?
    var description: String?
    var headers: [String: OpenAPIHeader]?
    var content: [String: OpenAPIMediaType]?

    enum CodingKeys: String, CodingKey { case ref = "$ref", description, headers, content }

    static func ref(_ name: String) -> OpenAPIResponse { OpenAPIResponse(ref: "#/components/responses/\(name)") }
}

struct OpenAPIParameter: Encodable, Sendable {
    enum Location: String, Encodable, Sendable { case path, query, header }

    var name: String
    var location: Location
    var description: String
    var required: Bool
    var schema: OpenAPISchema

    enum CodingKeys: String, CodingKey { case name, location = "in", description, required, schema }
}

struct OpenAPIRequestBody: Encodable, Sendable {
    var description: String
    var required: Bool
    var content: [String: OpenAPIMediaType]
}

struct OpenAPIOperation: Encodable, Sendable {
    var tags: [String]
    var summary: String
    var description: String?
    var operationId: String
    /// `[]` for the public routes; the bearer scheme for every other.
    var security: [[String: [String]]]
    var parameters: [OpenAPIParameter]?
    var requestBody: OpenAPIRequestBody?
    var responses: [String: OpenAPIResponse]
}

/// One operation at its path: what the route modules of the document list, grouped into `paths` by the document.
struct OpenAPIRoute: Sendable {
    var method: HTTPRequest.Method
    /// In OpenAPI's form, parameters in braces (`/api/orders/{clientOrderId}`).
    var path: String
    var operation: OpenAPIOperation
}
