import BagbotDomain

/// The account's balances as Binance last told them, kept current by the user data stream's
/// `outboundAccountPosition` (user-data-stream.md: sent whenever a balance changes, with the assets it changed), so
/// routerd's status line and mindsetd's mark-to-market read them without a `GET /api/v3/account` (weight 20) each.
///
/// Each asset keeps the time of the update it came from (`updateTime` of the REST snapshot, `u` of an event): a
/// snapshot read while an event arrived does not undo the newer event, nor an event delayed in the stream a newer
/// snapshot. Only served while the stream is subscribed and for a minute after its snapshot; emptied when the stream
/// drops or subscribes again, on a `balanceUpdate` or `externalLockUpdate`, and when the venue reports a fill (so a
/// stream that died silently cannot hide one).
struct BinanceAccountCache {
    private var balances: [String: (balance: AssetBalance, updatedAt: Int64)] = [:]
    private var seededAt: ContinuousClock.Instant?
    /// Raised each time the cache is emptied: a snapshot requested before then is not taken (it may predate what
    /// emptied it, and the event that would correct it was not heard).
    private(set) var generation = 0
    /// A snapshot is read again after this long, whatever the stream says: a connection that died silently is only
    /// found by its ping timeout (20–40 s), and Binance may move a balance without an event BAGBOT reads.
    static let maximumAge = Duration.seconds(60)

    /// What the account holds, if a snapshot was taken since the cache was last emptied, and recently enough.
    func current(now: ContinuousClock.Instant = .now) -> [AssetBalance]? {
        guard let seededAt, now - seededAt < Self.maximumAge else { return nil }
        return balances.values.map(\.balance).filter { !($0.free.isZero && $0.locked.isZero) }.sorted { $0.asset < $1.asset }
    }

    /// A whole-account snapshot (`GET /api/v3/account` with `omitZeroBalances`: an asset it leaves out holds nothing),
    /// requested in `generation` (ignored if the cache was emptied since). An event of the same millisecond wins: the
    /// snapshot may have been read between two changes of that millisecond, and every later change has its own event.
    mutating func seed(_ snapshot: [AssetBalance], updatedAt: Int64, requestedIn generation: Int, now: ContinuousClock.Instant = .now) {
        guard generation == self.generation else { return }
        let listed = Dictionary(snapshot.map { ($0.asset, $0) }, uniquingKeysWith: { first, _ in first })
        for asset in Set(balances.keys).union(listed.keys) {
            if let kept = balances[asset], kept.updatedAt >= updatedAt { continue }
            balances[asset] = (listed[asset] ?? AssetBalance(asset: asset, free: .zero, locked: .zero), updatedAt)
        }
        seededAt = now
    }

    /// An `outboundAccountPosition`: the assets it names, each unless a newer update is already kept.
    mutating func apply(_ changed: [AssetBalance], updatedAt: Int64) {
        for balance in changed where (balances[balance.asset]?.updatedAt ?? .min) <= updatedAt {
            balances[balance.asset] = (balance, updatedAt)
        }
    }

    mutating func empty() {
        balances = [:]
        seededAt = nil
        generation += 1
    }
}
