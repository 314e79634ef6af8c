import Foundation
import BagbotDomain

/// Reads a tick file one tick at a time, in file order, without holding its ticks: a backtest goes through
/// files of millions of lines in constant memory (with `mapped`, the kernel pages the file in and out).
/// Malformed lines are skipped and counted; a tick of another symbol than the file's first is skipped (one
/// symbol per file keeps each feed's clock simple); a row earlier than its predecessor is clamped to the
/// predecessor's time (feeds never go backwards). Ticks are numbered from 1 in `sequence`.
public struct ReplayReader: IteratorProtocol {
    public let path: String
    public let format: ReplayFormat
    /// Lines that gave no tick so far (malformed, or another symbol's).
    public private(set) var skippedLines = 0
    /// The file's symbol: the first tick's (nil before it).
    public private(set) var symbol: String?
    /// Lines read so far, the header included.
    public private(set) var linesRead = 0
    /// 1 when the file starts with a header line.
    public private(set) var headerLines = 0
    private let data: Data
    private var offset: Int
    private let line: ReplayLineParser
    private var count: UInt64 = 0
    private var lastTime: Date?

    /// Opens `path` and recognises its format by its first line. `tickSizes`: each symbol's price increment,
    /// onto which a trade print's bid and ask are put. `mapped`: the file is mapped rather than read whole (a
    /// long-running daemon reads it whole: a mapped file truncated under it would end the process).
    public init(path: String, symbol explicitSymbol: String? = nil, tradeSpreadBps: Double, tickSizes: [String: ExactDecimal] = [:],
                mapped: Bool = false) throws {
        self.path = path
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: mapped ? .alwaysMapped : [])
        } catch {
            throw ReplayParseError(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        offset = 0
        guard let firstRange = Self.nextLine(in: data, from: 0) else { throw ReplayParseError(file: path, reason: "empty file") }
        let first = String(decoding: data[firstRange.line], as: UTF8.self)
        guard let format = ReplayFormat.detect(firstLine: first) else {
            throw ReplayParseError(file: path, reason: "unrecognised format (expected HistData quotes, tardis.dev trades or Binance trades CSV)")
        }
        self.format = format
        var header: [String] = []
        if first.first.map({ !$0.isNumber }) ?? false {
            header = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            offset = firstRange.next
            (linesRead, headerLines) = (1, 1)
        }
        line = ReplayLineParser(format: format, header: header, fileSymbol: explicitSymbol ?? ReplayParser.symbolFromFileName(path),
                                explicitSymbol: explicitSymbol, spread: TradeSpread(bps: tradeSpreadBps, tickSizes: tickSizes),
                                source: "replay:" + (path as NSString).lastPathComponent)
    }

    /// Whether a symbol can be told for this file's ticks before any is read (tardis.dev rows carry their own).
    var symbolIsKnowable: Bool { line.fileSymbol != nil || format == .tardisTrades }

    public mutating func next() -> Tick? {
        while let range = Self.nextLine(in: data, from: offset) {
            offset = range.next
            linesRead += 1
            let text = String(decoding: data[range.line], as: UTF8.self)
            guard var tick = line.tick(text[...]), tick.symbol != "" else {
                skippedLines += 1
                continue
            }
            if symbol == nil { symbol = tick.symbol }
            guard tick.symbol == symbol else {
                skippedLines += 1
                continue
            }
            count += 1
            tick.sequence = count
            if let lastTime, tick.time < lastTime { tick.time = lastTime }
            lastTime = tick.time
            return tick
        }
        return nil
    }

    /// The next non-empty line at or after `start` (without its line break) and where the one after begins.
    private static func nextLine(in data: Data, from start: Int) -> (line: Range<Int>, next: Int)? {
        data.withUnsafeBytes { raw -> (line: Range<Int>, next: Int)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var begin = start
            while begin < bytes.count, bytes[begin] == 0x0A || bytes[begin] == 0x0D { begin += 1 }
            guard begin < bytes.count else { return nil }
            var end = begin
            while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            return (begin..<end, end)
        }
    }
}

/// One line of a tick file in a known format → a tick (nil when malformed).
struct ReplayLineParser {
    let format: ReplayFormat
    let columns: ReplayParser.TardisColumns?
    let fileSymbol: String?
    let explicitSymbol: String?
    let spread: TradeSpread
    let source: String

    init(format: ReplayFormat, header: [String], fileSymbol: String?, explicitSymbol: String?, spread: TradeSpread, source: String) {
        self.format = format
        self.columns = ReplayParser.TardisColumns(header: header)
        self.fileSymbol = fileSymbol
        self.explicitSymbol = explicitSymbol
        self.spread = spread
        self.source = source
    }

    func tick(_ line: Substring) -> Tick? {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        switch format {
        case .histDataQuotes:
            return ReplayParser.parseHistData(fields, symbol: fileSymbol, source: source)
        case .tardisTrades:
            return columns.flatMap { ReplayParser.parseTardis(fields, columns: $0, symbol: explicitSymbol, spread: spread, source: source) }
        case .binanceTrades:
            return ReplayParser.parseBinance(fields, symbol: fileSymbol, spread: spread, source: source)
        }
    }
}
