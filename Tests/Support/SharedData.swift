import Foundation

/// The real recorded market data beside the project (`../shared/data`, read-only).
public enum SharedData {
    /// This clone's top directory.
    public static let repository: String = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // <repo>/Tests/Support
            .deletingLastPathComponent() // <repo>/Tests
            .deletingLastPathComponent().standardizedFileURL.path
    }()

    public static let directory: String = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // <repo>/Tests/Support
            .deletingLastPathComponent() // <repo>/Tests
            .deletingLastPathComponent() // <repo>
            .appendingPathComponent("../shared/data").standardizedFileURL.path
    }()

    public static let btcusdt = directory + "/btcusdt-trades-20200222.csv"
    public static let eurusd = directory + "/eurusd-quotes-20200101.csv"

    public static func exists(_ path: String) -> Bool { FileManager.default.isReadableFile(atPath: path) }
}
