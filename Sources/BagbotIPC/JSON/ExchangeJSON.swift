import Foundation

/// JSON from outside BAGBOT (an exchange's REST answers and stream messages), read as `JSONDecoder()` with its
/// default settings reads it: the same value, or JSONDecoder's own error. `FastJSON`'s tape reads it where it can;
/// whatever it is not sure of goes to JSONDecoder, as for IPC bodies. Foundation's decoder was a tenth of routerd's
/// CPU under Binance's order traffic (docs/performance.md, "Binance order round trip"). A `Date` is always left to
/// JSONDecoder: its default reads seconds since 2001, IPC's dialect seconds since 1970.
public enum ExchangeJSON {
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        if let value = bytes.withUnsafeBytes({ FastJSON.decode(type, from: $0, datesSince1970: false) }) { return value }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }
}
