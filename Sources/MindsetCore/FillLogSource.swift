import Foundation
import BagbotDomain
import BagbotIPC

/// Where mindsetd reads the fills it counts closed trades from: routerd's fill log (`router.fills`).
public protocol FillLogSource: Sendable {
    /// The fills after `after`, oldest first, at most `limit`, with the database's identity and the log's end.
    func fills(after: Int64, limit: Int) async throws -> FillsResponse
}

/// routerd's fill log over IPC.
public struct IPCFillLog: FillLogSource {
    let client: IPCClient
    public init(client: IPCClient) { self.client = client }

    public func fills(after: Int64, limit: Int) async throws -> FillsResponse {
        try await client.call(Methods.routerFills, FillsQuery(afterSequence: after, limit: limit))
    }
}
