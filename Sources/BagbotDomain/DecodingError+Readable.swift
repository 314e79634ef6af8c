import Foundation

extension DecodingError {
    /// "at body.qty: expected Double" rather than Foundation's nested debug dump.
    public var readableDescription: String { readableDescription(under: nil) }

    /// The same, for a value that was decoded on its own but sits at `prefix` (such as `body`) in its document.
    public func readableDescription(under prefix: String?) -> String {
        func path(_ context: Context) -> String {
            let keys = (prefix.map { [$0] } ?? []) + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch self {
        case .typeMismatch(let type, let context):
            return "at \(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "at \(path(context)): missing \(type) value"
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key \(parent == "top level" ? "" : parent + ".")\(key.stringValue)"
        case .dataCorrupted(let context):
            return "at \(path(context)): \(Self.excerpt(context.debugDescription))"
        @unknown default:
            return "\(self)"
        }
    }

    /// Foundation's description quotes the offending value in full (a 100 KB string for an enum): at most 200
    /// characters of it, control characters escaped.
    static func excerpt(_ text: String) -> String {
        var result = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            guard index < 200 else { return result + "… (\(text.utf8.count) bytes)" }
            result += scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return result
    }
}
