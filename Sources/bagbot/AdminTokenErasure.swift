import Foundation
import FoundationNetworking
import Logging
import BagbotRuntime
import SupervisorCore

/// `bagbot up` keeps the first admin token's plaintext on disk only when asked (`--keep-admin-token`): it is printed
/// once, and `admin.token` is emptied as soon as the gateway accepts the token (its SHA-256 is then stored).
enum AdminTokenErasure {
    /// Polls `GET /api/subscription/me` with `token` until the gateway answers 200, then empties the file. Gives up,
    /// leaving the file, after `timeout` (the gateway did not start, or refuses the token: the operator is told).
    static func eraseOnceAccepted(token: String, port: Int, layout: DemoLayout, logger: Logger,
                                  timeout: Duration = .seconds(180)) async {
        guard let url = URL(string: "http://127.0.0.1:\(port)/api/subscription/me") else { return }
        var request = URLRequest(url: url, timeoutInterval: 5)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 {
                do {
                    try layout.eraseAdminToken()
                    StandardOutput.print("The admin token's plaintext is erased from \(layout.adminTokenPath) (the gateway keeps its hash): "
                                         + "keep the token printed above; `--keep-admin-token` keeps it on disk.")
                } catch {
                    logger.error("could not erase the admin token's plaintext", metadata: ["file": "\(layout.adminTokenPath)", "error": "\(error)"])
                }
                return
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        if !Task.isCancelled {
            logger.warning("the gateway did not accept the admin token in time; its plaintext stays", metadata: ["file": "\(layout.adminTokenPath)"])
        }
    }
}
