import BagbotStorage
import Foundation

/// `<run_dir>/admin-token.stored`: the SHA-256 (hex) of the first admin token's file, written once that token is
/// in `api_tokens`, and removed when it is not. The systemd unit erases the credential's plaintext only when the
/// file's own hash matches this one (`systemd/bagbot-gateway.service`, ExecStartPost=), so a token that was never
/// stored — credentials not delivered, another admin there first, a different run directory — keeps its plaintext
/// and the operator can still use it.
enum AdminTokenMarker {
    static let fileName = "admin-token.stored"

    static func path(runDir: String) -> String { runDir + "/" + fileName }

    static func record(_ outcome: TokenStore.BootstrapOutcome, runDir: String) throws {
        let path = path(runDir: runDir)
        if let hash = outcome.storedHash {
            try AtomicFile.write(Data(hash.utf8), to: path)
        } else if unlink(path) != 0 && errno != ENOENT {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }
}
