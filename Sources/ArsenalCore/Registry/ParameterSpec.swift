import BagbotDomain

/// One entry of a strategy's parameter schema: its name (snake_case, as in `bagbot.yaml`), type, bounds and
/// meaning, and the field of the settings it reads and writes. The same spec checks `bagbot.yaml` at start
/// and `arsenal.setParameters` at run time, so both refuse the same values with the same reason.
public struct ParameterSpec<Settings>: Sendable {
    public let name: String
    public let description: String
    public let type: StrategyParameterInfo.Kind
    public let minimum: Double
    public let maximum: Double
    private let read: @Sendable (Settings) -> Double
    private let write: @Sendable (inout Settings, Double) -> Void

    private init(name: String, description: String, type: StrategyParameterInfo.Kind, minimum: Double, maximum: Double,
                 read: @escaping @Sendable (Settings) -> Double, write: @escaping @Sendable (inout Settings, Double) -> Void) {
        self.name = name
        self.description = description
        self.type = type
        self.minimum = minimum
        self.maximum = maximum
        self.read = read
        self.write = write
    }

    public static func integer(_ name: String, _ path: WritableKeyPath<Settings, Int>, in range: ClosedRange<Int>,
                               _ description: String) -> Self {
        // A key path is immutable once formed; it is only not declared Sendable.
        nonisolated(unsafe) let path = path
        return Self(name: name, description: description, type: .integer, minimum: Double(range.lowerBound),
                    maximum: Double(range.upperBound), read: { Double($0[keyPath: path]) },
                    write: { $0[keyPath: path] = Int($1) })
    }

    public static func number(_ name: String, _ path: WritableKeyPath<Settings, Double>, in range: ClosedRange<Double>,
                              _ description: String) -> Self {
        nonisolated(unsafe) let path = path
        return Self(name: name, description: description, type: .number, minimum: range.lowerBound, maximum: range.upperBound,
                    read: { $0[keyPath: path] }, write: { $0[keyPath: path] = $1 })
    }

    public func value(in settings: Settings) -> Double { read(settings) }

    /// Why `value` is not acceptable, or nil.
    public func problem(with value: Double) -> String? {
        guard value.isFinite else { return "must be a finite number" }
        if type == .integer, value.rounded(.towardZero) != value { return "must be a whole number, got \(value)" }
        guard value >= minimum, value <= maximum else { return "must be between \(bound(minimum)) and \(bound(maximum)), got \(bound(value))" }
        return nil
    }

    /// Sets the parameter from a JSON value, or throws the reason it is refused (changing nothing).
    public func set(_ value: JSONValue, in settings: inout Settings) throws(ParameterProblem) {
        guard case .number(let number) = value else {
            throw ParameterProblem(parameter: name, reason: "must be a number (\(type.rawValue)), got \(value.typeName)")
        }
        if let problem = problem(with: number) { throw ParameterProblem(parameter: name, reason: problem) }
        write(&settings, number)
    }

    /// The same parameter on a larger settings value that holds these settings at `path`.
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Settings>) -> ParameterSpec<Outer> {
        nonisolated(unsafe) let path = path
        let (read, write) = (read, write)
        return ParameterSpec<Outer>(name: name, description: description, type: type, minimum: minimum, maximum: maximum,
                                    read: { read($0[keyPath: path]) }, write: { write(&$0[keyPath: path], $1) })
    }

    private func bound(_ value: Double) -> String {
        type == .integer ? String(Int(value)) : "\(value)"
    }
}

/// A parameter refused, and why.
public struct ParameterProblem: Error, Equatable, CustomStringConvertible {
    public var parameter: String
    public var reason: String
    public init(parameter: String, reason: String) {
        self.parameter = parameter
        self.reason = reason
    }
    public var description: String { "\(parameter): \(reason)" }
}

extension JSONValue {
    /// The JSON type's name, for an error that says what came instead.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
