#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotTestSupport

/// `bagbot up --dir ROOT/sys --port PORT` as a trader starts it, its output in ROOT/up.log; `stop` ends it the way an
/// operator would (SIGTERM: it stops its four children too).
struct BagbotUpRun {
    let process: ChildProcess
    let root: String
    let port: Int
    /// Where its output goes.
    let output: String

    init(root: String, port: Int, _ extra: [String]) throws {
        self.root = root
        self.port = port
        process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: TestSystem.binaries + "/bagbot")
        // Fees of 1 bp a side unless the test sets them: at the live rates (the default) the strategies barely trade
        // the recorded files, and these tests watch them trade.
        let fees = extra.contains { $0.hasPrefix("router.paper.fee_bps=") } ? [] : ["--set", "router.paper.fee_bps=1"]
        process.arguments = ["up", "--dir", root + "/sys", "--port", "\(port)"] + fees + extra
        output = root + "/up.log"
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    /// The first admin token, once `bagbot up` has printed it (nil before).
    var printedAdminToken: String? {
        guard let range = log.range(of: "First admin token (shown once; not kept on disk: copy it now):\n") else { return nil }
        return log[range.upperBound...].split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
}
