import BagbotDomain

/// The account's balances as Binance last told them, kept current by the user data stream's
/// `outboundAccountPosition` (user-data-stream.md: sent whenever a balance changes, with the assets it changed), so
/// routerd's status line and mindsetd's mark-to-market read them without a `GET /api/v3/account` (weight 20) each.
///
/// Each asset keeps the time of the update it came from (`updateTime` of the REST snapshot, `u` of an event): a
/// snapshot read while an event arrived does not undo the newer event, nor an event delayed in the stream a newer
/// snapshot. Only served while the stream is subscribed; emptied when it drops or a deposit or withdrawal
/// (`balanceUpdate`) changes what the events carry.
struct BinanceAccountCache {
    private var balances: [String: (balance: AssetBalance, updatedAt: Int64)] = [:]
    private var seeded = false

    /// What the account holds, if a snapshot was taken since the cache was last emptied.
    var current: [AssetBalance]? {
        guard seeded else { return nil }
        return balances.values.map(\.balance).filter { !($0.free.isZero && $0.locked.isZero) }.sorted { $0.asset < $1.asset }
    }

    /// A whole-account snapshot (`GET /api/v3/account` with `omitZeroBalances`: an asset it leaves out holds nothing).
    mutating func seed(_ snapshot: [AssetBalance], updatedAt: Int64) {
        let listed = Dictionary(snapshot.map { ($0.asset, $0) }, uniquingKeysWith: { first, _ in first })
        for asset in Set(balances.keys).union(listed.keys) {
            if let kept = balances[asset], kept.updatedAt > updatedAt { continue }
            balances[asset] = (listed[asset] ?? AssetBalance(asset: asset, free: .zero, locked: .zero), updatedAt)
        }
        seeded = true
    }

    /// An `outboundAccountPosition`: the assets it names, each unless a newer update is already kept.
    mutating func apply(_ changed: [AssetBalance], updatedAt: Int64) {
        for balance in changed where (balances[balance.asset]?.updatedAt ?? .min) <= updatedAt {
            balances[balance.asset] = (balance, updatedAt)
        }
    }

    mutating func empty() {
        balances = [:]
        seeded = false
    }
}
