import Foundation

/// Replay speed: a multiple of real time, or as fast as the consumers take it.
public enum ReplaySpeed: Sendable, Equatable, CustomStringConvertible {
    case multiple(Double)
    case max

    public init?(_ text: String) {
        if text.lowercased() == "max" {
            self = .max
        } else if let value = Double(text.hasSuffix("x") ? String(text.dropLast()) : text), value.isFinite, value > 0 {
            self = .multiple(value)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .max: return "max"
        case .multiple(let value): return "\(value)x"
        }
    }
}
