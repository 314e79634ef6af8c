/// A bounded, single-line rendering of untrusted text for log lines and error messages: a peer must not be
/// able to write a 100 KB line into the journal, nor start a forged line with a newline.
public enum LogExcerpt {
    public static let defaultLimit = 200

    /// At most `limit` Unicode scalars of `text`, control characters escaped; when cut, the total size in
    /// bytes follows (`{"v":1,… (100072 bytes)`). Scalars, not Characters: one Character can be megabytes.
    public static func of(_ text: String, limit: Int = defaultLimit) -> String {
        excerpt(text, limit: limit, totalBytes: text.utf8.count, truncated: false)
    }

    /// The same for raw bytes (a frame), read as UTF-8 with invalid sequences replaced; only the first
    /// bytes are decoded, whatever the size.
    public static func of(bytes: UnsafeRawBufferPointer, limit: Int = defaultLimit) -> String {
        let head = UnsafeRawBufferPointer(rebasing: bytes.prefix(limit * 4))
        return excerpt(String(decoding: head, as: UTF8.self), limit: limit, totalBytes: bytes.count,
                       truncated: head.count < bytes.count)
    }

    private static func excerpt(_ text: String, limit: Int, totalBytes: Int, truncated: Bool) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else { return result + "… (\(totalBytes) bytes)" }
            count += 1
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return truncated ? result + "… (\(totalBytes) bytes)" : result
    }
}
