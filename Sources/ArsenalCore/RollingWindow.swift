/// A fixed-size window of numbers with running sum and sum of squares: push, mean and variance are O(1),
/// with no rescans however long the window.
public struct RollingWindow: Sendable {
    private var values: [Double]
    private var next = 0
    public private(set) var count = 0
    public private(set) var sum = 0.0
    private var sumOfSquares = 0.0
    private var pushesSinceResum = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a window needs room for at least one value")
        values = [Double](repeating: 0, count: capacity)
    }

    public var capacity: Int { values.count }
    public var isFull: Bool { count == values.count }

    public mutating func push(_ value: Double) {
        if isFull {
            let old = values[next]
            sum -= old
            sumOfSquares -= old * old
        } else {
            count += 1
        }
        values[next] = value
        sum += value
        sumOfSquares += value * value
        next = (next + 1) % values.count
        // Running sums drift by rounding; an occasional exact recomputation bounds the error (amortised O(1)).
        pushesSinceResum += 1
        if pushesSinceResum >= 100 * values.count {
            resum()
        }
    }

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Population variance; never negative despite rounding.
    public var variance: Double {
        guard count > 1 else { return 0 }
        let m = mean
        return max(0, sumOfSquares / Double(count) - m * m)
    }

    public var standardDeviation: Double { variance.squareRoot() }

    private mutating func resum() {
        pushesSinceResum = 0
        sum = 0
        sumOfSquares = 0
        for index in 0..<count {
            sum += values[index]
            sumOfSquares += values[index] * values[index]
        }
    }
}
