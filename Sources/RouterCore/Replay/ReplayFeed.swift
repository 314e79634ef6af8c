import Foundation
import BagbotDomain

/// Plays recorded files as a live feed. Every file starts at the moment the replay starts and keeps its
/// own inter-tick gaps (scaled by the speed), so a 2020 EUR/USD file and a 2020 BTC file trade side by
/// side; tick times are shifted to "now", as a live feed's would be. At max speed they are shifted to the
/// earliest file's own start instead: market time then owes nothing to the wall clock, so a replay run
/// twice (or beside `bagbot backtest`) sees the same days. With `loop`, a file starts again
/// after its end and times keep increasing; each cycle's prices are scaled to start where the previous
/// cycle ended, so the seam is not a fake price jump that strategies would trade.
public struct ReplayFeed: Sendable {
    public let files: [ReplayFile]
    public let speed: ReplaySpeed
    public let loop: Bool
    /// Gap inserted between the end of a file and its next cycle.
    static let cycleGap: TimeInterval = 1

    public init(files: [ReplayFile], speed: ReplaySpeed, loop: Bool) {
        self.files = files
        self.speed = speed
        self.loop = loop
    }

    public var description: String {
        files.map { "\(($0.path as NSString).lastPathComponent) (\($0.symbol), \($0.ticks.count) ticks)" }.joined(separator: ", ")
    }

    /// Delivers ticks in time order until cancelled, or until every file ended when not looping.
    public func run(startingAt start: Date? = nil, deliver: (Tick) async -> Void) async {
        let base = start ?? (speed == .max ? files.compactMap { $0.ticks.first?.time }.min() ?? Date() : Date())
        var cursors = files.map { Cursor(file: $0) }
        let clock = ContinuousClock()
        let wallStart = clock.now
        var delivered = 0
        // Ticks are numbered per symbol across files (two files of one symbol must not share numbers: the pacer,
        // the paper venue's pinned quotes and the tick-to-order timing find a tick by symbol and number). A
        // slot whose tick is left out keeps its number, so the gap shows.
        var numbers: [String: UInt64] = [:]
        while !Task.isCancelled {
            guard let next = nextCursor(cursors) else { return }
            var current = cursors[next].currentTick(base: base)
            let number = (numbers[cursors[next].file.symbol] ?? 0) + 1
            numbers[cursors[next].file.symbol] = number
            current?.sequence = number
            let offset = cursors[next].currentOffset
            cursors[next].advance(loop: loop)
            if case .multiple(let factor) = speed {
                let target = wallStart + .seconds(offset / factor)
                if target > clock.now + .milliseconds(1) {
                    try? await Task.sleep(until: target, clock: clock)
                }
            }
            // The feed runs on routerd's core thread: behind schedule or at max speed it lets orders and requests
            // through every 64 ticks.
            delivered += 1
            if delivered % 64 == 0 { await Task.yield() }
            // A looped tick whose scaled prices cannot be quoted is left out (in its time slot, so a feed of
            // such ticks still paces itself), never replayed unscaled: that would be a fake jump back to the
            // first cycle's prices.
            guard var tick = current else { continue }
            tick.time = base.addingTimeInterval(offset)
            await deliver(tick)
        }
    }

    /// A file's price as written (its digits and its scale), scaled for one cycle.
    struct ScaledPrice {
        var mantissa: Int128
        var scale: Int
        var cycle: Int
        var result: ExactDecimal?
    }

    private func nextCursor(_ cursors: [Cursor]) -> Int? {
        var best: Int?
        for index in cursors.indices where !cursors[index].finished {
            if best == nil || cursors[index].currentOffset < cursors[best!].currentOffset { best = index }
        }
        return best
    }

    struct Cursor {
        let file: ReplayFile
        var index = 0
        var cycle = 0
        var finished: Bool
        /// Scaled prices of this cycle by the file's price (its digits, not its value: 1.50 and 1.5 keep their own
        /// scales), in slots picked by the price's last digits: a trade stream repeats a few hundred prices for
        /// hours, and scaling one exactly costs a microsecond (a dictionary's hashing was a third of that again).
        private var scaledSlots = [ScaledPrice?](repeating: nil, count: Cursor.scaledSlotCount)
        static let scaledSlotCount = 4_096

        init(file: ReplayFile) {
            self.file = file
            finished = file.ticks.isEmpty
        }

        var cycleLength: TimeInterval { file.duration + ReplayFeed.cycleGap }

        var currentOffset: TimeInterval {
            Double(cycle) * cycleLength + file.ticks[index].time.timeIntervalSince(file.start)
        }

        mutating func currentTick(base: Date) -> Tick? {
            var tick = file.ticks[index]
            tick.sequence = UInt64(cycle * file.ticks.count + index + 1)
            if cycle > 0, let first = file.ticks.first, let last = file.ticks.last, first.mid.isPositive {
                let scale = pow(last.midValue / first.midValue, Double(cycle))
                // Each price keeps the file's decimals; a tick they cannot hold (a bid rounded to zero, a book
                // crossed by rounding, a compounded scale out of range) is skipped.
                guard scale.isFinite, scale > 0, let bid = scaled(tick.bid, by: scale), let ask = scaled(tick.ask, by: scale),
                      let lastPrice = scaled(tick.last, by: scale), bid.isPositive, ask >= bid, lastPrice.isPositive else { return nil }
                tick.bid = bid
                tick.ask = ask
                tick.last = lastPrice
            }
            return tick
        }

        /// `factor` is the same for every price of a cycle.
        private mutating func scaled(_ price: ExactDecimal, by factor: Double) -> ExactDecimal? {
            let slot = Int(truncatingIfNeeded: price.mantissa &* 8 &+ Int128(price.scale)) & (Cursor.scaledSlotCount - 1)
            if let known = scaledSlots[slot], known.cycle == cycle, known.mantissa == price.mantissa, known.scale == price.scale {
                return known.result
            }
            let result = ExactDecimal(rounding: price.doubleValue * factor, scale: price.scale, rounding: .halfEven)
            scaledSlots[slot] = ScaledPrice(mantissa: price.mantissa, scale: price.scale, cycle: cycle, result: result)
            return result
        }

        mutating func advance(loop: Bool) {
            index += 1
            if index == file.ticks.count {
                if loop {
                    index = 0
                    cycle += 1
                } else {
                    finished = true
                    index -= 1
                }
            }
        }
    }
}

/// Finds the files to replay: those named in the configuration, or every recognised CSV in the data
/// directory; none at all means the synthetic feed.
public enum ReplaySources {
    /// `tickSizes`: each symbol's price increment, for the spread put around trade prints.
    public static func load(config: RouterSettings.Replay, tickSizes: [String: ExactDecimal] = [:]) throws -> [ReplayFile] {
        var paths = config.files
        if paths.isEmpty, !config.dataDir.isEmpty {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: config.dataDir)) ?? []
            paths = entries.filter { $0.lowercased().hasSuffix(".csv") }.sorted().map { config.dataDir + "/" + $0 }
        }
        return try paths.map { path in
            try refuseIfTooLarge(path, limitMb: config.maxFileMb)
            return try ReplayParser.parse(path: path, tradeSpreadBps: config.tradeSpreadBps, tickSizes: tickSizes)
        }
    }

    /// A file past `router.replay.max_file_mb` is refused before a byte of it is read: the feed would hold all of
    /// its ticks in memory. One that cannot be looked at is left to the parser, which says why.
    static func refuseIfTooLarge(_ path: String, limitMb: Int) throws {
        var status = stat()
        guard stat(path, &status) == 0, Int(status.st_size) > limitMb * 1_048_576 else { return }
        let size = Int(status.st_size)
        throw ReplayParseError(file: path, reason: "\(size / 1_048_576) MiB is more than router.replay.max_file_mb (\(limitMb)): the replay feed keeps "
            + "every tick of its files in memory (about five times a trade file's size); raise the limit if the machine has the memory, "
            + "split the file, or try it with `bagbot backtest`, which streams files of any size")
    }
}

/// A clearly labelled stand-in for real data: a seeded random walk with trending stretches, for machines
/// without recorded ticks. Its ticks carry source "synthetic".
public enum SyntheticFeed {
    public static func files(seed: UInt64 = 20_200_222) -> [ReplayFile] {
        [
            walk(symbol: "BTCUSDT", start: 9_680, decimals: 2, spreadBps: 1, seed: seed),
            walk(symbol: "EURUSD", start: 1.1212, decimals: 5, spreadBps: 0.5, seed: seed &+ 1),
        ]
    }

    /// Prices with `decimals` decimals, as a venue would quote them; quotes, with no traded size.
    static func walk(symbol: String, start: Double, decimals: Int, spreadBps: Double, seed: UInt64) -> ReplayFile {
        var random = SplitMix64(seed: seed)
        var price = start
        var drift = 0.0
        var ticks: [Tick] = []
        let origin = Date(timeIntervalSince1970: 1_582_329_600)
        for index in 0..<10_000 {
            if index % 400 == 0 { drift = (random.nextUnit() - 0.5) * 0.0004 }
            price *= 1 + drift + (random.nextUnit() - 0.5) * 0.0006
            let half = price * spreadBps / 20_000
            guard let bid = ExactDecimal(rounding: price - half, scale: decimals, rounding: .down),
                  let ask = ExactDecimal(rounding: price + half, scale: decimals, rounding: .up),
                  let last = ExactDecimal(rounding: price, scale: decimals, rounding: .halfEven) else { continue }
            ticks.append(Tick(symbol: symbol, time: origin.addingTimeInterval(Double(index) * 0.25), bid: bid,
                              ask: ask, last: last, volume: 0, sequence: UInt64(ticks.count + 1), source: "synthetic"))
        }
        return ReplayFile(path: "synthetic-\(symbol.lowercased())", symbol: symbol, format: .tardisTrades, ticks: ticks, skippedLines: 0)
    }
}

