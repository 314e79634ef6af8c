#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers
import BagbotDomain
import BagbotTestSupport
import Testing
@testable import BagbotIPC

/// A client that connects as uid/gid 65534 (nobody/nogroup) through `setpriv`, sends a framed hello and
/// prints, in hex, the first frame it receives (or whatever arrived before the connection ended).
private let strangerScript = #"""
import socket, struct, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
body = json.dumps({"v": 1, "id": 1, "type": "request", "method": "hello",
                   "body": {"service": "stranger", "protocol": "1.0"}}).encode()
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except OSError as error:
    print("send failed:", error, file=sys.stderr)
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    data += chunk
    if len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
        break
sys.stdout.write(data.hex())
"""#

private let nobodyID: UInt32 = 65_534

/// Runs the stranger script as uid/gid 65534 with no supplementary groups; returns its stdout and status.
private func runAsNobody(socketPath: String, workingDirectory: String) async throws -> (output: String, status: Int32, errors: String) {
    try await onThread {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--reuid=\(nobodyID)", "--regid=\(nobodyID)", "--clear-groups",
            "/usr/bin/python3", "-c", strangerScript, socketPath,
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: outData, as: UTF8.self), process.terminationStatus, String(decoding: errData, as: UTF8.self))
    }
}

private func bytes(fromHex hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index != hex.endIndex {
        if let byte = UInt8(hex[index..<next], radix: 16) { result.append(byte) }
        index = next
    }
    return result
}

private var canSwitchUsers: Bool {
    getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
}

private var nobodyGroupName: String? {
    guard let group = getgrgid(nobodyID), let name = group.pointee.gr_name else { return nil }
    return String(cString: name)
}

@Suite("IPC server: peer credentials")
struct PeerCredentialTests {
    @Test(
        "a process of another uid outside the socket's group is refused with forbidden",
        .enabled(if: canSwitchUsers, "needs root (to run a client as uid 65534 through setpriv) and python3")
    )
    func strangerRefused() async throws {
        // mode 0666 and a traversable directory: the file system lets the stranger in, only SO_PEERCRED stops it
        try await withServer(directoryMode: 0o755, socketMode: 0o666, socketGroup: nil) { _, directory in
            let result = try await runAsNobody(socketPath: directory.socketPath, workingDirectory: directory.path)
            #expect(result.status == 0, "client failed: \(result.errors)")
            let (frames, _) = Wire.frames(in: bytes(fromHex: result.output))
            let frame = try #require(frames.first, "no frame received; stderr: \(result.errors)")
            let reply = try Reply.decode(frame)
            #expect(reply.errorCode == "forbidden")
            #expect(reply.body?.message?.contains("\(nobodyID)") == true)
        }
    }

    @Test(
        "the same client is let in when its gid is the socket's group (control for the refusal test)",
        .enabled(if: canSwitchUsers && nobodyGroupName != nil, "needs root, python3 and a group with gid 65534")
    )
    func groupMemberAllowed() async throws {
        try await withServer(directoryMode: 0o755, socketMode: 0o660, socketGroup: nobodyGroupName) { _, directory in
            var info = stat()
            #expect(stat(directory.socketPath, &info) == 0)
            #expect(info.st_gid == nobodyID)
            let result = try await runAsNobody(socketPath: directory.socketPath, workingDirectory: directory.path)
            #expect(result.status == 0, "client failed: \(result.errors)")
            let (frames, _) = Wire.frames(in: bytes(fromHex: result.output))
            let frame = try #require(frames.first, "no frame received; stderr: \(result.errors)")
            let reply = try Reply.decode(frame)
            #expect(reply.type == "response")
            #expect(reply.body?.service == "testd")
        }
    }

    @Test("PeerPolicy allows root and its own uid, refuses others without a group")
    func policyWithoutGroup() {
        let policy = PeerPolicy(ownUID: 1_234, allowedGID: nil)
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 0, gid: 0)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 0, gid: 777)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 1_234, gid: 999)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 1_235, gid: 1_234)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 4_000_000, gid: 0)))
    }

    @Test("PeerPolicy with a group allows that primary gid and refuses other gids")
    func policyWithGroup() {
        let policy = PeerPolicy(ownUID: 1_234, allowedGID: 2_000)
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 4_000_001, gid: 2_000)))
        // uid 4,000,001 has no account, so it has no supplementary groups either
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 4_000_001, gid: 2_001)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 1_234, gid: 2_001)))
    }

    @Test(
        "PeerPolicy finds a member through its supplementary groups",
        .enabled(if: supplementaryMember() != nil, "no account on this machine is a supplementary member of a group")
    )
    func policySupplementaryGroup() throws {
        let member = try #require(supplementaryMember())
        let policy = PeerPolicy(ownUID: 4_000_002, allowedGID: member.group)
        #expect(policy.allows(PeerCredentials(pid: 1, uid: member.uid, gid: member.primaryGID)))
        let other = PeerPolicy(ownUID: 4_000_002, allowedGID: 4_000_003)
        #expect(!other.allows(PeerCredentials(pid: 1, uid: member.uid, gid: member.primaryGID)))
    }

    @Test("PeerPolicy.forGroup resolves names and refuses unknown groups")
    func policyForGroup() throws {
        #expect(try PeerPolicy.forGroup(named: nil).allowedGID == nil)
        #expect(try PeerPolicy.forGroup(named: "").allowedGID == nil)
        #expect(try PeerPolicy.forGroup(named: "root").allowedGID == 0)
        #expect(throws: IPCError.self) { try PeerPolicy.forGroup(named: "no-such-group-bagbot-test") }
    }

    @Test("the server reads the connecting process's own pid, uid and gid")
    func credentialsSeenByHandler() async throws {
        let seen = NIOLockedValueBox<PeerCredentials?>(nil)
        try await withServer(setup: { server in
            server.registry.registerSync("test.whoami", EmptyBody.self) { _, context in
                seen.withLockedValue { $0 = context.peer }
                return EmptyBody()
            }
        }) { _, directory in
            let client = try await connectedClient(socketPath: directory.socketPath)
            _ = try await client.call("test.whoami", EmptyBody(), as: EmptyBody.self)
            await client.shutdown()
        }
        let peer = try #require(seen.withLockedValue { $0 })
        #expect(peer.pid == getpid())
        #expect(peer.uid == getuid())
        #expect(peer.gid == getgid())
    }
}

/// An account that belongs to a group other than its primary one, from the local account database.
private func supplementaryMember() -> (uid: UInt32, primaryGID: UInt32, group: UInt32)? {
    guard let text = try? String(contentsOfFile: "/etc/group", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 4, let gid = UInt32(fields[2]) else { continue }
        for member in fields[3].split(separator: ",") {
            guard let account = getpwnam(String(member)) else { continue }
            let uid = account.pointee.pw_uid
            let primary = account.pointee.pw_gid
            if primary != gid && uid != 0 { return (uid, primary, gid) }
        }
    }
    return nil
}
