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
            return "at \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
