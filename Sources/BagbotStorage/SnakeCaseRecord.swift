import GRDB

/// A GRDB record whose columns are the snake_case spelling of its Codable properties (`clientOrderId` is
/// `client_order_id`), as every table of `bagbot.db` is written.
public protocol SnakeCaseRecord: FetchableRecord, PersistableRecord {}

extension SnakeCaseRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
