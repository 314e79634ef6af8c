import Foundation
import GRDB

/// `manual_order_owners`: who placed each manual order through `POST /api/orders` (its client order id, `bb-m-…`,
/// and the owner of the token), written before the order goes to arsenald and kept (a row per order, never
/// expired like the keys). `DELETE /api/orders/{id}` lets a non-admin token cancel only its owner's orders.
struct ManualOrderOwners: Sendable {
    let database: DatabasePool

    /// Notes that `owner` is placing `clientOrderId` (again: the first owner stays; a key names one owner's order).
    func record(clientOrderId: String, owner: String, tokenId: String, now: Date) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO manual_order_owners (client_order_id, owner, token_id, created_at) VALUES (?, ?, ?, ?)
                """, arguments: [clientOrderId, owner, tokenId, now])
        }
    }

    /// The owner who placed `clientOrderId` through the API; nil for any other order (a strategy's, one placed with
    /// `bagbot call`, one placed before owners were recorded, or none).
    func owner(of clientOrderId: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT owner FROM manual_order_owners WHERE client_order_id = ?", arguments: [clientOrderId])
        }
    }
}
