#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BagbotRuntime
import BagbotStorage

/// Everything `bagbot up` keeps under one directory: sockets in run/, database and state in state/,
/// the generated config and the first admin token beside them.
public struct DemoLayout: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
    }

    public var runDir: String { root + "/run" }
    public var stateDir: String { root + "/state" }
    public var configPath: String { root + "/bagbot.yaml" }
    public var adminTokenPath: String { root + "/admin.token" }
    public var databasePath: String { stateDir + "/bagbot.db" }

    public func prepare() throws {
        for directory in [root, runDir, stateDir] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let longest = runDir + "/arsenald.sock"
        guard longest.utf8.count <= 107 else {
            throw ConfigError(file: configPath, key: "paths.run_dir",
                              reason: "\(longest) is \(longest.utf8.count) bytes; Unix socket paths allow 107. Use a shorter --dir.")
        }
    }

    /// Writes the config on first start only, so a user's edits survive; flags override it at each start.
    public func writeConfigIfMissing(dataDir: String?) throws -> Bool {
        guard !FileManager.default.fileExists(atPath: configPath) else { return false }
        var yaml = """
            # BAGBOT configuration for `bagbot up`. Every key not named here has its default;
            # see docs/configuration.md. Flags given to `bagbot up` override these values.
            paths:
              run_dir: \(runDir)
              state_dir: \(stateDir)
            gateway:
              bootstrap_admin_token_file: \(adminTokenPath)
            router:
              mode: paper
              replay:
                speed: "1"   # other than "1": raise mindset.max_clock_skew_seconds (bagbot up --speed does)
                loop: true

            """
        if let dataDir { yaml += "    data_dir: \(dataDir)\n" }
        try AtomicFile.write(Data(yaml.utf8), to: configPath)
        return true
    }

    /// What `admin.token` holds: nothing yet, the token (kept), or nothing any more (emptied once the gateway stored it).
    public enum AdminTokenFile: Equatable, Sendable {
        case missing
        case kept(String)
        case erased
    }

    public var adminTokenFile: AdminTokenFile {
        guard let text = try? String(contentsOfFile: adminTokenPath, encoding: .utf8) else { return .missing }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? .erased : .kept(token)
    }

    /// Empties `admin.token`: the plaintext is gone, and the empty file tells later starts that a token was made and
    /// shown (so no second one is), and the gateway that there is nothing to bootstrap.
    public func eraseAdminToken() throws {
        let fd = open(adminTokenPath, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemCallError("empty \(adminTokenPath)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemCallError("sync \(adminTokenPath)") }
    }

    /// Creates the first admin token (0600) when there is none; returns it so it can be shown once.
    public func createAdminTokenIfMissing() throws -> String? {
        guard !FileManager.default.fileExists(atPath: adminTokenPath) else { return nil }
        let token = try APITokenFormat.generate()
        let fd = open(adminTokenPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemCallError("create \(adminTokenPath)") }
        defer { close(fd) }
        let line = Array((token + "\n").utf8)
        guard write(fd, line, line.count) == line.count, fsync(fd) == 0 else {
            throw SystemCallError("write \(adminTokenPath)")
        }
        return token
    }

    /// `../shared/data` beside the checkout, found from the working directory or from the executable
    /// (which lives in the checkout's .build/); nil when absent.
    public static func findSharedData(executable: String) -> String? {
        var starts = [FileManager.default.currentDirectoryPath]
        starts.append((executable as NSString).deletingLastPathComponent)
        for start in starts {
            var directory = URL(fileURLWithPath: start).standardizedFileURL.resolvingSymlinksInPath()
            for _ in 0..<8 {
                let candidate = directory.deletingLastPathComponent().appendingPathComponent("shared/data").path
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
                   FileManager.default.fileExists(atPath: candidate) {
                    return candidate
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}
