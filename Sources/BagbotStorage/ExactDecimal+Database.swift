import BagbotDomain
import GRDB

/// Money is stored as TEXT in its exact decimal spelling ("0.00100000"), never as REAL: SQLite's REAL is a
/// binary double and would round what the exchange sent. A value that is not an exact decimal fails the read
/// (GRDB reports a decoding error) rather than turning into some number.
extension ExactDecimal: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ExactDecimal? {
        guard case .string(let text) = dbValue.storage else { return nil }
        return ExactDecimal(text)
    }
}
