import Foundation
import Yams

/// A configuration problem, naming the file, the key and the reason.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var key: String
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "config \(file): \(reason)" : "config \(file): key '\(key)': \(reason)"
    }
}

/// Loads `bagbot.yaml`: each registered section is merged over its defaults (so the file names only what it
/// changes), unknown keys are refused (a typo must not silently leave a loss limit at its default), overrides
/// (`key.path=value`, from flags) are applied last, and the result is validated section by section.
public enum ConfigLoader {
    /// Loads the file with the built-in sections (`paths`, `ipc`, `log`) and `sections`.
    public static func load(
        path: String?, overrides: [String] = [], sections: [any ConfigSection.Type] = []
    ) throws -> BagbotConfig {
        let file = path ?? "(defaults)"
        var user: [String: Any] = [:]
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
            }
            user = try parse(yaml: text, file: path)
        }
        for override in overrides {
            try apply(override: override, to: &user, file: file)
        }
        return try decode(user: user, file: file, sections: sections)
    }

    /// How plain scalars are typed. YAML 1.1's rules would read `0100000` as octal 32768, `1:30` as 90 and
    /// `0x10` as 16, and every decimal through a `Double`: here a whole number is only plain decimal digits,
    /// and a number with a fraction or an exponent stays the text the user wrote. `merge` turns that text
    /// into a `Double` where the setting is one, and keeps it, digit for digit, where it is an exact decimal.
    static let resolver = Resolver.default.removing(.float).replacing(try! Resolver.Rule(.int, "^[-+]?(?:0|[1-9][0-9]*)$"))

    /// Plain decimal notation with a fraction or an exponent (`0.5`, `-1e-05`, `2.`): what a user means as
    /// a number, and nothing YAML 1.1 would also read (no `.inf`, `1_000.5`, `1:30.5`).
    private static let decimalText = try! NSRegularExpression(pattern: "^[-+]?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$")

    private static func isDecimalText(_ text: String) -> Bool {
        decimalText.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    public static func parse(yaml text: String, file: String) throws -> [String: Any] {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text, resolver)
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        guard let loaded else { return [:] }
        guard let map = loaded as? [String: Any] else {
            throw ConfigError(file: file, key: "", reason: "the top level must be a mapping of sections")
        }
        return map
    }

    static func decode(user: [String: Any], file: String, sections: [any ConfigSection.Type]) throws -> BagbotConfig {
        let registered = BagbotConfig.builtIn + sections
        let own = Set(registered.map { $0.key })
        let known = own.union(BagbotConfig.sectionOwners.keys)
        for (key, value) in user {
            guard known.contains(key) else {
                throw ConfigError(file: file, key: key, reason: "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
            }
            guard value is [String: Any] else { throw ConfigError(file: file, key: key, reason: "expected a mapping") }
        }
        var config = BagbotConfig()
        for type in registered {
            config.set(try decode(type, from: user[type.key] as? [String: Any] ?? [:], file: file))
        }
        return config
    }

    /// Decodes and validates one section from the user's mapping for it.
    static func decode<Section: ConfigSection>(
        _ type: Section.Type, from user: [String: Any], file: String
    ) throws -> Section {
        let rules = SectionRules(Section.self)
        let defaults = try defaultsTree(Section.self, rules: rules)
        try checkKeys(user, against: defaults, path: "", rules: rules, file: file)
        let merged = renameKeys(merge(user, over: defaults, rules: rules), path: "", rules: rules, using: camelCase)
        let data = try JSONSerialization.data(withJSONObject: merged)
        let section: Section
        do {
            section = try JSONDecoder().decode(Section.self, from: data)
        } catch let error as DecodingError {
            let key = snakeKeyPath(of: error)
            throw ConfigError(file: file, key: key.isEmpty ? Section.key : "\(Section.key).\(key)", reason: reasonText(of: error))
        }
        try section.validate(ConfigCheck(file: file, section: Section.key))
        return section
    }

    /// One section's key rules, with paths relative to the section.
    struct SectionRules {
        let key: String
        let openMaps: Set<String>
        let numbersAllowedAsStrings: Set<String>

        init<Section: ConfigSection>(_ type: Section.Type) {
            key = Section.key
            openMaps = Section.openMaps
            numbersAllowedAsStrings = Section.numbersAllowedAsStrings
        }

        func fullPath(_ path: String) -> String { path.isEmpty ? key : "\(key).\(path)" }
    }

    static func defaultsTree<Section: ConfigSection>(_ type: Section.Type, rules: SectionRules) throws -> [String: Any] {
        let data = try JSONEncoder().encode(Section())
        let camel = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return renameKeys(camel, path: "", rules: rules, using: snakeCase)
    }

    /// Renames section and field keys (not the user's keys inside open maps, such as symbols).
    /// JSONCoder's key strategies cannot be used: they would also rewrite symbol keys like "BTCUSDT".
    private static func renameKeys(
        _ tree: [String: Any], path: String, rules: SectionRules, using rename: (String) -> String
    ) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in tree {
            let snakeKey = snakeCase(key)
            let keyPath = path.isEmpty ? snakeKey : "\(path).\(snakeKey)"
            if !rules.openMaps.contains(keyPath), let nested = value as? [String: Any] {
                result[rename(key)] = renameKeys(nested, path: keyPath, rules: rules, using: rename)
            } else {
                result[rename(key)] = value
            }
        }
        return result
    }

    private static func checkKeys(
        _ user: [String: Any], against defaults: [String: Any], path: String, rules: SectionRules, file: String
    ) throws {
        for (key, value) in user {
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard let known = defaults[key] else {
                throw ConfigError(file: file, key: rules.fullPath(keyPath),
                                  reason: "unknown key (known here: \(defaults.keys.sorted().joined(separator: ", ")))")
            }
            if rules.openMaps.contains(keyPath) {
                guard value is [String: Any] else {
                    throw ConfigError(file: file, key: rules.fullPath(keyPath), reason: "expected a mapping")
                }
                continue
            }
            if let knownMap = known as? [String: Any] {
                guard let userMap = value as? [String: Any] else {
                    throw ConfigError(file: file, key: rules.fullPath(keyPath), reason: "expected a mapping")
                }
                try checkKeys(userMap, against: knownMap, path: keyPath, rules: rules, file: file)
            }
        }
    }

    /// Not socket_mode among the numbers allowed as strings: YAML may read 0660 as an octal number, and
    /// guessing would be worse than asking for quotes.
    private static func merge(
        _ user: [String: Any], over defaults: [String: Any], rules: SectionRules, path: String = ""
    ) -> [String: Any] {
        var result = defaults
        for (key, value) in user {
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if let nested = value as? [String: Any], let base = defaults[key] as? [String: Any], !rules.openMaps.contains(keyPath) {
                result[key] = merge(nested, over: base, rules: rules, path: keyPath)
            } else if rules.numbersAllowedAsStrings.contains(keyPath), value is Int || value is Double {
                result[key] = "\(value)"
            } else if let text = value as? String, let known = defaults[key], !(known is String), !(known is NSNull), isDecimalText(text),
                      let number = Double(text) {
                // A number with a fraction where the setting is a floating-point number (not where it is unset by
                // default, written as null: its type is not known there, and text keeps its digits).
                result[key] = number
            } else if rules.numbersAllowedAsStrings.contains(keyPath + ".*"), let map = value as? [String: Any] {
                result[key] = numbersAsText(map)
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// Every number in `map` and the maps inside it as its text (an open map of decimals, or of settings
    /// made of decimals such as a symbol's rules).
    private static func numbersAsText(_ map: [String: Any]) -> [String: Any] {
        map.mapValues { value in
            if let nested = value as? [String: Any] { return numbersAsText(nested) }
            return value is Int || value is Double ? "\(value)" : value
        }
    }

    /// Applies `a.b.c=value`; the value is read as a YAML scalar or flow collection (`[a, b]`).
    static func apply(override: String, to tree: inout [String: Any], file: String) throws {
        guard let equals = override.firstIndex(of: "=") else {
            throw ConfigError(file: file, key: override, reason: "an override must look like key.path=value")
        }
        let keys = override[..<equals].split(separator: ".").map(String.init)
        let rawValue = String(override[override.index(after: equals)...])
        guard !keys.isEmpty else { throw ConfigError(file: file, key: override, reason: "empty key") }
        let value: Any = (try? Yams.load(yaml: rawValue, resolver)).flatMap { $0 } ?? rawValue
        func set(_ node: inout [String: Any], _ index: Int) {
            if index == keys.count - 1 {
                node[keys[index]] = value
                return
            }
            var child = node[keys[index]] as? [String: Any] ?? [:]
            set(&child, index + 1)
            node[keys[index]] = child
        }
        set(&tree, 0)
    }

    private static func snakeKeyPath(of error: DecodingError) -> String {
        let context: DecodingError.Context?
        var path: [CodingKey] = []
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c): context = c; path.append(key)
        @unknown default: context = nil
        }
        let keys = (context?.codingPath ?? []) + path
        return keys.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func reasonText(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): return "expected \(typeName(type))"
        case .valueNotFound(let type, _): return "missing \(typeName(type))"
        case .keyNotFound: return "missing"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "a number"
        case is Int.Type: return "a whole number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return "\(type)"
        }
    }

    static func camelCase(_ snake: String) -> String {
        let parts = snake.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return snake }
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// camelCase → snake_case; a key that is not camelCase (a symbol such as BTCUSDT) is left alone.
    static func snakeCase(_ camel: String) -> String {
        guard let first = camel.first, first.isLowercase else { return camel }
        var result = ""
        for character in camel {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
