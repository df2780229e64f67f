/// How a model turns an input image into prompt tokens (OpenAI "images-vision";
/// docs/reference/CHAT-COUNTING.md#images).
public struct ImageTokenRule: Sendable, Equatable {
    /// The two published schemes.
    public enum Scheme: Sendable, Equatable {
        /// 512 px tiles after fitting in 2048×2048 and scaling the short side down to 768 px:
        /// `base + tiles × perTile` tokens at detail "high", `base` at detail "low".
        case tiles(base: Int, perTile: Int)
        /// 32 px patches, at most 1536, times a model factor (rounded up); detail is ignored.
        case patches(multiplier: ExactRatio)
    }

    /// The scheme and its constants.
    public var scheme: Scheme
    /// Why the rule is uncertain for this model (e.g. "constants assumed equal to gpt-5"); nil when
    /// the constants are published for this model. A non-nil note makes image counts approximate.
    public var note: String?

    public init(scheme: Scheme, note: String? = nil) {
        self.scheme = scheme
        self.note = note
    }
}
