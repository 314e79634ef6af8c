import Foundation

/// Finds a key that appears twice in one object. JSONDecoder accepts such a document and serves the first
/// value, so a peer and a proxy (or a log reader) can disagree on what was asked; the IPC refuses it.
///
/// The fast path never needs this: its tape declines any document with a repeated (or escaped, or
/// non-ASCII) key. This runs only on what goes to JSONDecoder, so building a String per key costs nothing
/// on valid traffic. Keys are compared as JSONDecoder compares them: unescaped, as Strings.
enum JSONKeyCheck {
    enum Outcome {
        /// Every object's keys are distinct; the tape (read without key rules) is returned for further checks.
        case unique(JSONTape)
        /// `key` is there twice in the object at `path` (`top level`, `body`, `body.legs[0]`).
        case duplicate(key: String, path: String)
        /// Not JSON the tape reads (malformed, nested deeper than `JSONTape.maximumDepth`, a key that is
        /// not valid Unicode): the caller lets JSONDecoder explain, and refuses what it would accept.
        case unreadable
    }

    static func check(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard let tape = JSONTape.parse(bytes, plainUniqueKeys: false) else { return .unreadable }
        let reader = JSONTapeDecoder(bytes: bytes, tape: tape)
        let nodes = tape.nodes
        for object in nodes.indices where nodes[object].kind == .object && nodes[object].count > 1 {
            var seen = Set<String>(minimumCapacity: nodes[object].count)
            var key = object + 1
            while key < nodes[object].end {
                guard let text = keyText(nodes[key], reader: reader) else { return .unreadable }
                if !seen.insert(text).inserted {
                    return .duplicate(key: text, path: path(to: object, in: nodes, reader: reader))
                }
                key = nodes[key + 1].end
            }
        }
        return .unique(tape)
    }

    static func keyText(_ node: JSONTape.Node, reader: JSONTapeDecoder) -> String? {
        if node.kind == .escapedString { return reader.unescapedString(node) }
        return String(validating: UnsafeRawBufferPointer(rebasing: reader.bytes[node.start..<(node.start + node.length)]), as: UTF8.self)
    }

    /// Walks down from the root to `target`, naming each member and element on the way (errors only).
    private static func path(to target: Int, in nodes: [JSONTape.Node], reader: JSONTapeDecoder) -> String {
        var components: [String] = []
        var container = 0
        while container != target {
            var child = container + 1
            var position = 0
            if nodes[container].kind == .object {
                while child < nodes[container].end {
                    let value = child + 1
                    if value <= target && target < nodes[value].end {
                        components.append(keyText(nodes[child], reader: reader) ?? "?")
                        child = value
                        break
                    }
                    child = nodes[value].end
                }
            } else {
                while child < nodes[container].end {
                    if target < nodes[child].end {
                        components.append("[\(position)]")
                        break
                    }
                    child = nodes[child].end
                    position += 1
                }
            }
            // The tape's subtrees nest, so `target` is always inside one child; stop rather than loop if not.
            guard child > container, child <= target else { break }
            container = child
        }
        guard !components.isEmpty else { return "top level" }
        return components.reduce("") { path, component in
            component.hasPrefix("[") || path.isEmpty ? path + component : path + "." + component
        }
    }
}
