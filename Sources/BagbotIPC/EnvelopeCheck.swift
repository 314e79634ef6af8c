import Foundation

/// The envelope rules JSONDecoder does not enforce, for the frames `EnvelopeScanner` declines (its own
/// grammar already meets them, so valid traffic never comes here): no object anywhere in the frame has a
/// key twice, and `v` and `id` are JSON integers written as integers, in range. JSONDecoder reads `1.0`
/// as 1 and `1e-999` as 0, so a peer could send one value and have another served.
enum EnvelopeCheck {
    enum Outcome {
        case valid
        case refused(IPCError)
        /// The check could not read the frame: JSONDecoder must refuse it, or the frame is refused anyway.
        case unreadable
    }

    static func check(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        switch JSONKeyCheck.check(bytes) {
        case .unreadable:
            return .unreadable
        case .duplicate(let key, let path):
            let place = path == "top level" ? "" : " in \(path)"
            return .refused(IPCError(.badRequest, "malformed envelope: duplicate key '\(LogExcerpt.of(key, limit: 64))'\(place)"))
        case .unique(let tape):
            let reader = JSONTapeDecoder(bytes: bytes, tape: tape)
            guard tape.nodes[0].kind == .object else { return .valid }  // JSONDecoder explains
            var key = 1
            while key < tape.nodes[0].end {
                let value = key + 1
                switch JSONKeyCheck.keyText(tape.nodes[key], reader: reader) {
                // Other kinds (a string, null for `v`) are JSONDecoder's to refuse, with its own message.
                case "v" where isNumber(tape.nodes[value]):
                    guard integer(tape.nodes[value], in: bytes, allowNegative: true) != nil else {
                        return .refused(notInteger("v", tape.nodes[value], in: bytes))
                    }
                case "id" where isNumber(tape.nodes[value]):
                    guard integer(tape.nodes[value], in: bytes, allowNegative: false) != nil else {
                        return .refused(notInteger("id", tape.nodes[value], in: bytes))
                    }
                default:
                    break
                }
                key = tape.nodes[value].end
            }
            return .valid
        }
    }

    /// The magnitude of an integer token (no fraction, no exponent) that fits `Int` (`v`) or `UInt64` (`id`).
    private static func integer(_ node: JSONTape.Node, in bytes: UnsafeRawBufferPointer, allowNegative: Bool) -> UInt64? {
        guard node.kind == .integer else { return nil }
        var position = node.start
        let end = node.start + node.length
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative {
            guard allowNegative else { return nil }
            position += 1
        }
        var magnitude: UInt64 = 0
        while position < end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            position += 1
        }
        if allowNegative {
            guard magnitude <= (negative ? UInt64(Int.max) + 1 : UInt64(Int.max)) else { return nil }
        }
        return magnitude
    }

    private static func isNumber(_ node: JSONTape.Node) -> Bool {
        node.kind == .integer || node.kind == .number
    }

    private static func notInteger(_ field: String, _ node: JSONTape.Node, in bytes: UnsafeRawBufferPointer) -> IPCError {
        let token = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[node.start..<(node.start + node.length)]), as: UTF8.self)
        let range = field == "v" ? "a 64-bit integer" : "an unsigned 64-bit integer"
        return IPCError(.badRequest, "malformed envelope: '\(field)' must be \(range) written without fraction or exponent, not \(LogExcerpt.of(token, limit: 40))")
    }
}
