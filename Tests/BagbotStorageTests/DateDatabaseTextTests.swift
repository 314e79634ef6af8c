import Foundation
import GRDB
import Testing
@testable import BagbotStorage

@Suite("Dates written as GRDB writes them")
struct DateDatabaseTextTests {
    private func grdbText(_ date: Date) -> String? {
        guard case .string(let text) = date.databaseValue.storage else { return nil }
        return text
    }

    @Test("the same text as GRDB's formatter, from 1970 to 9999, at and around millisecond boundaries")
    func sameAsGRDB() {
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 0.0009), Date(timeIntervalSince1970: 0.001),
            Date(timeIntervalSince1970: 951_782_400), // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_400), // 2100-03-01, not a leap year before it
            Date(timeIntervalSince1970: 253_402_300_799.999), // 9999-12-31 23:59:59.999
            Date(timeIntervalSince1970: 1_796_387_456.9999999), Date(timeIntervalSince1970: 1_796_387_456.1239999),
            Date(), Date(timeIntervalSinceReferenceDate: 0),
        ]
        for _ in 0..<20_000 {
            let seconds = Double.random(in: 0..<4_200_000_000, using: &generator)
            dates.append(Date(timeIntervalSince1970: seconds))
            // Just under, at and just over a whole millisecond.
            let whole = (seconds * 1_000).rounded(.down) / 1_000
            dates.append(Date(timeIntervalSince1970: whole))
            dates.append(Date(timeIntervalSince1970: whole.nextDown))
            dates.append(Date(timeIntervalSince1970: whole.nextUp))
            dates.append(Date(timeIntervalSinceReferenceDate: Double(Int.random(in: -978_307_200..<3_000_000_000, using: &generator)) + 0.9995))
        }
        var mismatches: [String] = []
        for date in dates where date.databaseText != grdbText(date) {
            mismatches.append("\(date.timeIntervalSince1970): \(date.databaseText) ≠ \(grdbText(date) ?? "nil")")
        }
        let count = mismatches.count
        #expect(count == 0, "\(mismatches.prefix(5))")
    }

    @Test("dates GRDB's formatter writes itself (before 1970, after 9999) are still written as GRDB writes them")
    func outsideTheFastRange() {
        for date in [Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: -86_400 * 365.25 * 100), Date(timeIntervalSince1970: 253_402_300_800)] {
            #expect(date.databaseText == grdbText(date))
        }
    }

    @Test("written as text, a date reads back as the same millisecond")
    func readsBack() throws {
        let date = Date(timeIntervalSince1970: 1_796_387_456.123)
        let read = Date.fromDatabaseValue(date.databaseText.databaseValue)
        #expect(read.map { ($0.timeIntervalSince1970 * 1_000).rounded() } == 1_796_387_456_123)
    }
}
