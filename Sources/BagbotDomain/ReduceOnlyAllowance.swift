import Foundation

/// How much a refused reduce-only order could still have reduced, said in routerd's refusal and read back by
/// arsenald, which sends a refused stop once more at that size: a stop that sells what is held beats one that
/// sells nothing. One type writes and reads the phrase, so the two cannot drift apart.
public enum ReduceOnlyAllowance {
    static let prefix = "; at most "
    static let suffix = " may still reduce it"

    /// The phrase appended to a refusal: `quantity` may still go out against the position.
    public static func phrase(_ quantity: ExactDecimal) -> String { prefix + quantity.description + suffix }

    /// The quantity a refusal's message allows, if it says one.
    public static func parse(_ message: String) -> ExactDecimal? {
        guard let start = message.range(of: prefix, options: .backwards),
              let end = message.range(of: suffix, range: start.upperBound..<message.endIndex) else { return nil }
        return ExactDecimal(plainText: String(message[start.upperBound..<end.lowerBound]))
    }
}
