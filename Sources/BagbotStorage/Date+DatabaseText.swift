import Foundation
import GRDB
import BagbotDomain

extension Date {
    /// The text GRDB stores a `Date` as ("2026-12-04 12:30:56.123", UTC, to the nearest millisecond), written
    /// without a `DateFormatter`: GRDB's goes through ICU, which cost about 8 µs a date, and an order writes
    /// seven (docs/performance.md, "Durable orders"). The same bytes as GRDB's, so rows read back and compare
    /// as before (`DateDatabaseTextTests`); years outside 1970–9999 are left to GRDB's formatter.
    public var databaseText: String {
        let milliseconds = (timeIntervalSince1970 * 1_000).rounded()
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000, let total = Int64(exactly: milliseconds) else {
            guard case .string(let text) = databaseValue.storage else { return "\(self)" }
            return text
        }
        let (days, inDay) = total.quotientAndRemainder(dividingBy: 86_400_000)
        let (year, month, day) = civilDate(daysSince1970: days)
        let hour = inDay / 3_600_000, minute = inDay / 60_000 % 60, second = inDay / 1_000 % 60, milli = inDay % 1_000
        // Each field's value and width, each followed by its separator: "yyyy-MM-dd HH:mm:ss.SSS".
        let fields: [(value: Int64, digits: Int, then: UInt8?)] = [
            (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: " ")),
            (hour, 2, UInt8(ascii: ":")), (minute, 2, UInt8(ascii: ":")), (second, 2, UInt8(ascii: ".")), (milli, 3, nil),
        ]
        return String(unsafeUninitializedCapacity: 23) { buffer in
            var offset = 0
            for field in fields {
                var value = field.value
                for index in stride(from: offset + field.digits - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                offset += field.digits
                if let separator = field.then {
                    buffer[offset] = separator
                    offset += 1
                }
            }
            return offset
        }
    }
}
