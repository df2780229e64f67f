/// One model in the catalog: how to count its tokens, how much context it takes, what it costs.
public struct CatalogModel: Sendable, Equatable {
    /// The canonical name, e.g. `"gpt-4o"` or `"llama3.1"`.
    public var name: String
    /// Other names that resolve to this entry exactly (e.g. an Ollama tag such as `"llama3.1:8b"`).
    public var aliases: [String]
    /// Who serves it: `"openai"`, `"ollama"`, ...
    public var provider: String
    /// The API the model is offered on: `"chat"` (Chat Completions) or `"responses"` (Responses only).
    public var mode: String
    /// The tokenizer used to count, and whether it is the model's own.
    public var encoding: ModelEncoding
    /// For a model counted with a stand-in encoding: how much more (percent) the model's own tokenizer may
    /// count than the stand-in, so that the gateway's counts (prompt holds, the live budget cut) stay an upper
    /// bound of the provider's. 0 for an exact encoding. See ``localCount(_:)``.
    public var estimateMarginPercent: Int = 0
    /// The model's whole context, in tokens: the prompt plus the completion (reasoning included) must fit
    /// in it. The output cap sent upstream is never more than `contextWindow − prompt` (see
    /// `contextOverflow(promptTokens:outputTokens:)` and `outputRoom(promptTokens:)`).
    public var contextWindow: Int
    /// Largest prompt accepted, in tokens (litellm's `max_input_tokens`), when it is less than the context
    /// window (the gpt-5 family: 272,000 of a 400,000 context); nil when the context window alone limits the
    /// prompt. Never more than `contextWindow`.
    public var maxInputTokens: Int?
    /// Largest completion the model produces in one request, in tokens.
    public var maxOutputTokens: Int
    /// True when the model produces output the gateway cannot see while it streams: hidden reasoning
    /// tokens, billed as completion tokens but never sent in the deltas. Such a model's output cap is
    /// held up front, since the gateway cannot cut the stream off before the hidden tokens are spent.
    public var hiddenOutput: Bool
    /// Prices; nil means the catalog does not know them and the model is refused for billing.
    public var price: ModelPrice?
    /// How images are counted; nil when the model takes no image input.
    public var image: ImageTokenRule?
    /// Where the chat framing (3 per message, +1 per name, +3 priming) was checked against the
    /// provider's `usage` for this model; nil when the framing is assumed.
    public var framingVerifiedBy: String?
    /// Free-form remark shown with estimates (e.g. why a local model's context differs in Ollama).
    public var note: String?

    public init(name: String, aliases: [String] = [], provider: String, mode: String = "chat",
                encoding: ModelEncoding, contextWindow: Int, maxInputTokens: Int? = nil, maxOutputTokens: Int, hiddenOutput: Bool = false,
                price: ModelPrice?, image: ImageTokenRule? = nil, framingVerifiedBy: String? = nil,
                note: String? = nil) {
        self.name = name
        self.aliases = aliases
        self.provider = provider
        self.mode = mode
        self.encoding = encoding
        self.contextWindow = contextWindow
        self.maxInputTokens = maxInputTokens
        self.maxOutputTokens = maxOutputTokens
        self.hiddenOutput = hiddenOutput
        self.price = price
        self.image = image
        self.framingVerifiedBy = framingVerifiedBy
        self.note = note
    }

    /// A count made with ``encoding``, raised by ``estimateMarginPercent`` (rounded up): what the gateway holds
    /// and meters for this model.
    public func localCount(_ tokens: Int) -> Int { Self.raise(tokens, byPercent: estimateMarginPercent) }

    /// `tokens` raised by `percent`, rounded up (exact integer arithmetic, no overflow short of `Int.max / 5`).
    public static func raise(_ tokens: Int, byPercent percent: Int) -> Int {
        guard percent > 0, tokens > 0 else { return tokens }
        return tokens + tokens / 100 * percent + (tokens % 100 * percent + 99) / 100
    }

    /// The price to bill with; throws `CatalogError.unpriced` rather than ever treating an unknown
    /// price as zero. (A local model priced at 0 in the catalog is free on purpose.)
    public func billingPrice() throws(CatalogError) -> ModelPrice {
        guard let price else { throw .unpriced(model: name) }
        return price
    }
}
