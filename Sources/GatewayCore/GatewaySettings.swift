import BagbotRuntime

/// The `gateway:` section of `bagbot.yaml`: where the HTTP API listens and its first admin token.
public struct GatewaySettings: ConfigSection {
    public static let key = "gateway"
    public var host = "127.0.0.1"
    public var port = 8080
    /// File holding the first admin token; when the database has no admin token, its SHA-256 is stored.
    /// Under systemd this comes through `LoadCredential=` instead.
    public var bootstrapAdminTokenFile = ""

    public init() {}

    public func validate(_ check: ConfigCheck) throws {
        guard (1...65_535).contains(port) else { throw check.fail("port", "must be 1–65535") }
    }
}
