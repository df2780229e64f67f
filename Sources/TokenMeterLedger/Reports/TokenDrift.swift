/// How far the provider's token counts are from TokenMeter's own, over the same requests: the ones whose
/// upstream reported usage. A positive drift means the provider counted more than TokenMeter.
///
/// Read it from ``UsageTotals/drift``, which is nil when no request of the group has provider counts: then
/// there is nothing to compare, which is not the same as a drift of 0.
public struct TokenDrift: Sendable, Hashable {
    /// The requests compared: those with provider counts.
    public var requests: Int64
    /// Prompt tokens TokenMeter counted, over ``requests``.
    public var localPromptTokens: Int64
    /// Prompt tokens the provider reported, over ``requests``.
    public var providerPromptTokens: Int64
    /// Completion tokens TokenMeter counted, over ``requests``.
    public var localCompletionTokens: Int64
    /// Completion tokens the provider reported, over ``requests``.
    public var providerCompletionTokens: Int64

    /// A comparison over `requests` requests.
    public init(requests: Int64, localPromptTokens: Int64, providerPromptTokens: Int64, localCompletionTokens: Int64,
                providerCompletionTokens: Int64) {
        self.requests = requests
        self.localPromptTokens = localPromptTokens
        self.providerPromptTokens = providerPromptTokens
        self.localCompletionTokens = localCompletionTokens
        self.providerCompletionTokens = providerCompletionTokens
    }

    /// Provider minus local prompt tokens (negative when the provider counted fewer).
    public var promptTokens: Int64 { providerPromptTokens - localPromptTokens }
    /// Provider minus local completion tokens.
    public var completionTokens: Int64 { providerCompletionTokens - localCompletionTokens }

    /// ``promptTokens`` as a share of the local count, in tenths of a percent (rounded to nearest, halves away
    /// from zero); nil when the local count is 0.
    public var promptPerMille: Int64? { Self.perMille(promptTokens, of: localPromptTokens) }
    /// ``completionTokens`` as a share of the local count, in tenths of a percent; nil when the local count is 0.
    public var completionPerMille: Int64? { Self.perMille(completionTokens, of: localCompletionTokens) }

    /// `part` × 1,000 / `whole` rounded to nearest (halves away from zero), in 128-bit arithmetic so no count
    /// overflows; saturates at ±`Int64.max`. Nil when `whole` ≤ 0.
    static func perMille(_ part: Int64, of whole: Int64) -> Int64? {
        guard whole > 0 else { return nil }
        let magnitude = part.magnitude.multipliedFullWidth(by: 1_000)
        let divisor = UInt64(whole)
        guard magnitude.high < divisor else { return part < 0 ? -.max : .max } // the quotient would not fit
        let (quotient, remainder) = divisor.dividingFullWidth(magnitude)
        let rounded = remainder >= divisor - remainder ? quotient + 1 : quotient
        guard rounded <= UInt64(Int64.max) else { return part < 0 ? -.max : .max }
        return part < 0 ? -Int64(rounded) : Int64(rounded)
    }
}
