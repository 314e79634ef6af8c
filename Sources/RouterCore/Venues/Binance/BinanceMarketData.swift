import BagbotIPC
import Foundation
import BagbotDomain

/// Binance's combined market streams (binance-spot-api-docs, web-socket-streams.md) turned into BAGBOT's ticks:
/// `<symbol>@bookTicker` gives the best bid and ask, `<symbol>@trade` each trade's price and quantity. A trade
/// tick carries the last book seen (and is dropped until there is one); a book tick's `last` is its mid, as quote
/// feeds have it. Each symbol's ticks are numbered; after a gap in the connection the numbering skips one, so a
/// consumer sees that ticks may be missing (`Tick.sequence`).
public struct BinanceMarketData: Sendable {
    public let symbols: Set<String>
    private var books: [String: (bid: ExactDecimal, ask: ExactDecimal)] = [:]
    private var sequences: [String: UInt64] = [:]
    private var gapPending: Set<String> = []

    public init(symbols: [String]) {
        self.symbols = Set(symbols)
    }

    /// The combined stream's path for these symbols: `/stream?streams=btcusdt@bookTicker/btcusdt@trade`.
    public static func streamPath(_ symbols: [String]) -> String {
        "/stream?streams=" + symbols.sorted().flatMap { ["\($0.lowercased())@bookTicker", "\($0.lowercased())@trade"] }.joined(separator: "/")
    }

    /// What one message of the combined stream means.
    public enum Message: Sendable, Equatable {
        case tick(Tick)
        /// Binance is about to close the connection (`serverShutdown`): reconnect now.
        case serverShutdown
        /// Nothing for BAGBOT (a trade before any book, a stream it did not ask for).
        case ignored
        /// Not what Binance documents; the reason, for the log.
        case unreadable(String)
    }

    /// After a disconnect: each symbol's next tick is numbered past a gap.
    public mutating func connectionLost() {
        gapPending = symbols
        books = [:]
    }

    public mutating func read(_ text: [UInt8], receivedAt: Date) -> Message {
        guard text.count <= 64 * 1024 else { return .unreadable("a message of \(text.count) bytes") }
        let envelope: Envelope
        do {
            envelope = try ExchangeJSON.decode(Envelope.self, from: text)
        } catch {
            return .unreadable("not a combined-stream message: \(String(describing: error).prefix(200))")
        }
        let payload = envelope.data
        if payload.e == "serverShutdown" { return .serverShutdown }
        guard let symbol = payload.s, symbols.contains(symbol) else { return .ignored }
        if envelope.stream.hasSuffix("@bookTicker") {
            guard let bid = payload.b, let ask = payload.a else { return .unreadable("a bookTicker without b or a") }
            books[symbol] = (bid, ask)
            let mid = (try? (try bid + ask).halved) ?? bid
            return .tick(tick(symbol, time: receivedAt, bid: bid, ask: ask, last: mid, volume: .zero))
        }
        if envelope.stream.hasSuffix("@trade") {
            guard let price = payload.p, let quantity = payload.q else { return .unreadable("a trade without p or q") }
            guard let book = books[symbol] else { return .ignored }
            let time = payload.T.map { Date(timeIntervalSince1970: Double($0) / 1_000) } ?? receivedAt
            return .tick(tick(symbol, time: time, bid: book.bid, ask: book.ask, last: price, volume: quantity))
        }
        return .ignored
    }

    private mutating func tick(_ symbol: String, time: Date, bid: ExactDecimal, ask: ExactDecimal, last: ExactDecimal,
                               volume: ExactDecimal) -> Tick {
        var next = (sequences[symbol] ?? 0) + 1
        if gapPending.remove(symbol) != nil, next > 1 { next += 1 }
        sequences[symbol] = next
        return Tick(symbol: symbol, time: time, bid: bid, ask: ask, last: last, volume: volume, sequence: next, source: "binance")
    }

    /// `{"stream":"btcusdt@trade","data":{…}}`; the fields of both payloads, every one optional.
    private struct Envelope: Decodable {
        var stream: String
        var data: Payload
    }

    private struct Payload: Decodable {
        var e: String?
        var s: String?
        var b: ExactDecimal?
        var a: ExactDecimal?
        var p: ExactDecimal?
        var q: ExactDecimal?
        var T: Int64?
    }
}
