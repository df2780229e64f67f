/// How much output a request holds in the ledger, and by how much a stream's hold grows: the rules of
/// docs/LEDGER.md, "Holds". All figures are output (completion) tokens; "free" is what the user's limits
/// still pay for after everything settled and held, this request's own hold included.
public struct HoldPolicy: Sendable, Equatable {
    /// The largest slice a stream of visible output holds at a time; nil sets no bound beyond the
    /// adaptive rule. A small bound makes every stream extend its hold often (used to measure extensions).
    public var maximumSlice: Int?
    /// The output cap of a hidden-output request that sets none, when a budget limit applies: without one
    /// it would hold the model's whole maximum output (128,000 tokens, $1.28 for gpt-5).
    public var hiddenOutputDefaultCap = 32_768
    /// The share of the free output a hidden-output request may hold, in percent: it holds its cap, or this
    /// share of what is free, whichever is smaller, so one request cannot lock up the budget.
    public var fairSharePercent = 50

    /// A slice is at most this fraction (1/n) of the free output: small when the budget is tight, the whole
    /// output cap once the budget pays for 16 of them.
    static let sliceDivisor = 16
    /// Slices are this large at least when the budget allows it (see ``slice(free:wanted:needed:streams:)``),
    /// so a stream is not extended a few tokens at a time: 32 tokens is about a second of a fast model's output.
    static let minimumSlice = 32

    /// The default policy.
    public init() {}

    /// Output tokens to add to a visible-output stream's hold:
    ///
    ///     slice = min(max(32, free / 16), free / streams), at least 1 and at least `needed`,
    ///             at most `wanted` and `free`
    ///
    /// where `streams` counts the user's live streams, this one included. The first term makes slices large
    /// when much is free and small when the budget is tight; the second never gives one stream more than an
    /// equal share of what is free, so concurrent streams that start together all get a slice, and what is
    /// free shrinks geometrically instead of running out while most of it is held but not yet used.
    /// `needed` is what a delta waiting for the hold takes; `wanted` what the stream may still get under its
    /// output cap. `free == Int.max` (no limit): everything wanted.
    func slice(free: Int, wanted: Int, needed: Int = 0, streams: Int) -> Int {
        guard free != .max else { return wanted }
        var slice = min(max(Self.minimumSlice, free / Self.sliceDivisor), free / max(1, streams))
        if let maximumSlice { slice = min(slice, maximumSlice) }
        return max(0, min(max(slice, needed, 1), wanted, free))
    }

    /// Output tokens a hidden-output request holds, which is also the cap sent upstream: its `cap`, or its
    /// fair share of `free`, whichever is smaller (at least one token: the caller refuses requests for which
    /// nothing is free). `free == Int.max` (no limit): the cap.
    func hiddenOutputHold(free: Int, cap: Int) -> Int {
        guard free != .max else { return cap }
        let share = free / 100 * fairSharePercent + free % 100 * fairSharePercent / 100
        return min(cap, max(1, share))
    }
}
