/// A prompt's token count for one model, split by where the tokens come from, and whether it is
/// exactly what the provider bills or an approximation (with every reason).
public struct PromptCount: Sendable, Equatable {
    /// Total prompt tokens.
    public var tokens: Int { text + framing + images + tools + margin }
    /// Tokens of the values themselves (content, role, name, ...).
    public var text: Int
    /// Fixed chat overhead: 3 per message, +1 per `name`, +3 reply priming.
    public var framing: Int
    /// Tokens for input images.
    public var images: Int
    /// Tokens for tool definitions (cookbook heuristic).
    public var tools: Int
    /// Tokens added by the model's `estimate_margin_percent` to a stand-in count (``CatalogModel/localCount(_:)``),
    /// so that the total is an upper bound of the provider's count; 0 for an exact encoding.
    public var margin = 0
    /// Why the count may differ from the provider's; empty means exact.
    public var approximations: [String]

    /// True when no approximation was involved.
    public var isExact: Bool { approximations.isEmpty }

    public init(text: Int = 0, framing: Int = 0, images: Int = 0, tools: Int = 0, approximations: [String] = []) {
        self.text = text
        self.framing = framing
        self.images = images
        self.tools = tools
        self.approximations = approximations
    }
}
