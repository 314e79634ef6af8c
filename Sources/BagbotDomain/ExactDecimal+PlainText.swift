extension ExactDecimal {
    /// Reads a decimal typed by a person or a client program, strictly: digits, optionally one `.` with at least one
    /// digit on each side, and a leading `-` only when `allowingNegative` (a quantity or a price is never negative).
    /// No exponent (`1e3`), no `+`, no bare point (`.5`, `5.`), no spaces. `init?(_:)` stays lenient for what
    /// machines wrote (config files, IPC, venues); an API that promises "a plain decimal such as 0.002" reads with
    /// this, so `1e3` cannot become 1000 of something. The type's own bounds apply (18 decimals, below 10^18).
    public init?(plainText text: String, allowingNegative: Bool = false) {
        var bytes = Substring(text).utf8[...]
        if allowingNegative, bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }) else {
            return nil
        }
        self.init(text)
    }
}
