import Foundation

/// A strategy's wish to trade, as arsenald sends it to mindsetd for a decision.
public struct TradeProposal: Codable, Sendable, Equatable {
    public var strategyId: String
    public var symbol: String
    public var side: Side
    /// Base size before risk scaling.
    public var quantity: ExactDecimal
    public var price: ExactDecimal
    /// Market time of the tick that produced the signal (replay time in a replay).
    public var time: Date
    public var strength: Double
    public var confidence: Double
    /// Whether the order opens or grows exposure (entries are guarded; exits and stops never are).
    public var isEntry: Bool
    public var requestId: String
    /// The last sequence of routerd's fill log its caller has seen: mindsetd counts every trade those fills
    /// closed before it judges an entry (docs/mindset.md). Nil: no such wait (a caller that follows no fills).
    public var fillSequence: Int64?
    /// The identity of routerd's database `fillSequence` counts in (nil: not known yet).
    public var fillDatabaseId: String?
    /// The id of the fill at `fillSequence`, when the caller received that fill itself: a log rewritten under
    /// the same numbers (a restored backup) shows as another id there.
    public var fillId: String?

    public init(strategyId: String, symbol: String, side: Side, quantity: ExactDecimal, price: ExactDecimal, time: Date,
                strength: Double, confidence: Double, isEntry: Bool, requestId: String, fillSequence: Int64? = nil) {
        self.fillSequence = fillSequence
        self.strategyId = strategyId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.time = time
        self.strength = strength
        self.confidence = confidence
        self.isEntry = isEntry
        self.requestId = requestId
    }
}

public struct MindsetDecision: Codable, Sendable, Equatable {
    public var approved: Bool
    /// Multiplier applied to the base size (0 when blocked).
    public var sizeMultiplier: Double
    /// The proposal's quantity × the multiplier, exact (the arsenal rounds it down to the symbol's step size
    /// before it places the order).
    public var approvedQuantity: ExactDecimal
    public var emotionState: String
    /// Why: every rule that blocked or scaled the trade, in words a trader reads.
    public var reasons: [String]
    /// The same reasons for machines, one code per sentence in the same order (`revenge_cooldown`, `locked`,
    /// `grade_size`, …; the list is in docs/mindset.md, "Decisions").
    public var codes: [String]

    public init(approved: Bool, sizeMultiplier: Double, approvedQuantity: ExactDecimal, emotionState: String,
                reasons: [String], codes: [String]) {
        self.approved = approved
        self.sizeMultiplier = sizeMultiplier
        self.approvedQuantity = approvedQuantity
        self.emotionState = emotionState
        self.reasons = reasons
        self.codes = codes
    }

    /// A refusal for one reason.
    public static func blocked(_ code: String, _ reason: String, emotionState: String) -> MindsetDecision {
        MindsetDecision(approved: false, sizeMultiplier: 0, approvedQuantity: 0, emotionState: emotionState, reasons: [reason], codes: [code])
    }
}

/// A position reduced or closed, with its realised result, as arsenald reports it to mindsetd.
public struct ClosedTrade: Codable, Sendable, Equatable {
    public var strategyId: String
    public var symbol: String
    /// Side of the position that was closed (buy = a long was closed).
    public var side: Side
    public var quantity: ExactDecimal
    public var entryPrice: ExactDecimal
    public var exitPrice: ExactDecimal
    /// Realised profit or loss in quote currency, after fees.
    public var pnl: ExactDecimal
    public var closedAt: Date
    public var requestId: String?
    /// Unique per closed trade (the id of the fill that closed it): a resend after a timeout or a
    /// reconnect is recognised and not counted twice.
    public var tradeId: String?

    public init(strategyId: String, symbol: String, side: Side, quantity: ExactDecimal, entryPrice: ExactDecimal,
                exitPrice: ExactDecimal, pnl: ExactDecimal, closedAt: Date, requestId: String?, tradeId: String? = nil) {
        self.tradeId = tradeId
        self.strategyId = strategyId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.pnl = pnl
        self.closedAt = closedAt
        self.requestId = requestId
    }

    /// Notional size of the trade, used by the revenge guard to compare sizes across symbols.
    public var notional: ExactDecimal { (try? quantity.times(entryPrice).magnitude) ?? .zero }
}

/// A strategy's proposal before the mindset has judged it.
public struct Signal: Codable, Sendable, Equatable {
    public var strategyId: String
    public var symbol: String
    public var side: Side
    public var quantity: ExactDecimal
    public var price: ExactDecimal
    public var time: Date
    /// How far the setup exceeds the strategy's own threshold (1 = just enough).
    public var strength: Double
    /// The strategy's recent reliability, 0…1.
    public var confidence: Double
    public var isEntry: Bool
    /// In words: "momentum +0.12% beats threshold 0.05%", "stop loss at −0.5%".
    public var reason: String
    public var requestId: String

    public init(strategyId: String, symbol: String, side: Side, quantity: ExactDecimal, price: ExactDecimal, time: Date,
                strength: Double, confidence: Double, isEntry: Bool, reason: String, requestId: String) {
        self.strategyId = strategyId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.time = time
        self.strength = strength
        self.confidence = confidence
        self.isEntry = isEntry
        self.reason = reason
        self.requestId = requestId
    }

    public var rank: Double { strength * confidence }

    public var proposal: TradeProposal {
        TradeProposal(strategyId: strategyId, symbol: symbol, side: side, quantity: quantity, price: price, time: time,
                      strength: strength, confidence: confidence, isEntry: isEntry, requestId: requestId)
    }
}
