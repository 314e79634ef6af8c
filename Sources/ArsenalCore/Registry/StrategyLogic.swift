import Foundation
import BagbotDomain

/// What a strategy author writes: the market logic of one symbol, ticks in, intents out. Everything else —
/// the position from fills, orders in flight, the order-rate guard, the stop, sizing, enabling — is the
/// arsenal's (`StrategyRunner`), written once for every strategy. A strategy is one file: a type conforming
/// to this protocol, and its `Tuning` (parameters with their schema).
///
/// The arsenal makes one value per symbol and rebuilds it when parameters change (its windows fill again).
/// `onQuote` sees every valid tick of its symbol, in order, even while an order is in flight or the strategy
/// is disabled, so its state is current when it may act again. It must be O(1).
public protocol StrategyLogic {
    associatedtype Tuning: StrategyTuning
    /// Why an intent was formed, as numbers; turned into words only for a signal that goes out.
    associatedtype Reason: CustomStringConvertible

    /// The strategy's id in the registry and its section in `bagbot.yaml` (`micro_trend`).
    static var id: String { get }
    /// The kind, as `arsenal.strategies` shows it (`micro_trend_follower`).
    static var kind: String { get }
    /// What it does, in a sentence.
    static var summary: String { get }

    init(settings: StrategySettings<Tuning>)

    mutating func onQuote(_ quote: Quote, holding: Holding) -> Intent<Reason>?
}

/// A tick as strategies compute with it: floating point, validated (bid positive, ask not below bid).
public struct Quote: Sendable {
    public var bid: Double
    public var ask: Double
    public var time: Date

    public var mid: Double { (bid + ask) / 2 }
    public var spread: Double { ask - bid }
}

/// Which way the strategy's position in the symbol points (from its fills).
public enum Holding: Sendable, Equatable {
    case flat, long, short
}

/// What a strategy wants on this tick. The arsenal sizes it: an entry at the symbol's base quantity (only
/// when flat and enabled), an exit for the whole open position (reduce-only, also when disabled).
public struct Intent<Reason: CustomStringConvertible> {
    public enum Action: Equatable {
        case enter(Side)
        case exit
    }

    public var action: Action
    /// How far the setup exceeds the strategy's own threshold (1 = just enough); ranks competing signals.
    public var strength: Double
    public var reason: Reason

    public static func enter(_ side: Side, strength: Double, _ reason: Reason) -> Self {
        Self(action: .enter(side), strength: strength, reason: reason)
    }

    public static func exit(strength: Double, _ reason: Reason) -> Self {
        Self(action: .exit, strength: strength, reason: reason)
    }
}
