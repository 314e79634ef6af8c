import Foundation
import Hummingbird
import BagbotIPC

/// Reads a request's JSON object body strictly: at most `GatewayContext.maximumBodyBytes` (else 413), an object
/// (else 400 `bad_json`), only the fields `T` knows (else 400 `unknown_field`, so a misspelt field is not silently
/// ignored), each of the right type (else 400 `bad_request` naming it).
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: GatewayContext, fields: Set<String>,
                                     nested: [String: Set<String>] = [:], emptyIsAllowed: Bool = false) async throws -> T? {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer.readableBytesView)
        if data.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
            if emptyIsAllowed { return nil }
            throw APIError(.badRequest, "bad_json", "a JSON object body is required")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError(.badRequest, "bad_json", "the body must be a JSON object")
        }
        try checkFields(object, known: fields, path: "")
        for (key, known) in nested {
            if let inner = object[key] as? [String: Any] { try checkFields(inner, known: known, path: key + ".") }
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError(.badRequest, "bad_request", describe(error))
        }
    }

    static func checkFields(_ object: [String: Any], known: Set<String>, path: String) throws {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError(.badRequest, "unknown_field",
                           "unknown field '\(path)\(LogExcerpt.of(unknown, limit: 40))'; known: \(known.sorted().map { path + $0 }.joined(separator: ", "))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(path(context.codingPath))' has the wrong type or is null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "field '\(path(context.codingPath))' is not valid"
        @unknown default: return "the body could not be read"
        }
    }
}
