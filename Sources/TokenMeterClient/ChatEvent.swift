import Foundation

/// One event of a streamed chat completion: one OpenAI `chat.completion.chunk` or one Ollama
/// NDJSON line, decoded, together with the provider's raw bytes for pass-through.
public struct ChatEvent: Sendable, Hashable {
    /// The completion id (`chatcmpl-…`) when the provider sends one.
    public var id: String?
    /// The model that answered, as the provider names it.
    public var model: String?
    /// When the completion was created (Unix seconds), when the provider says.
    public var created: Int64?
    /// The provider's backend fingerprint (`system_fingerprint`), when it sends one.
    public var systemFingerprint: String?
    /// Per-choice deltas; usually one (index 0). Empty on the final usage chunk.
    public var choices: [ChatChoiceDelta]
    /// Token usage, present when the provider reported it (OpenAI's include_usage chunk, Ollama's
    /// final line).
    public var usage: ChatUsage?
    /// The service tier that processed the request (OpenAI's `service_tier`: `default`, `flex`, `priority`),
    /// when the provider says; its prices are the ones that apply.
    public var serviceTier: String?
    /// The chunk carried a usage object without `prompt_tokens` and `completion_tokens` (``usage`` is then nil):
    /// the provider reported usage in a shape this client does not know.
    public var unreadableUsage = false
    /// The provider's chunk verbatim: the SSE `data` payload (OpenAI) or the NDJSON line (Ollama),
    /// UTF-8 JSON without line terminator.
    public var raw: Data
    /// For a Responses or Anthropic Messages upstream: the typed event this one was decoded from (its
    /// content, reasoning and tool-call fragments are also in ``choices``, its usage in ``usage``).
    public var typed: TypedEvent?

    /// Makes an event from its parts.
    public init(id: String? = nil, model: String? = nil, created: Int64? = nil, systemFingerprint: String? = nil,
                choices: [ChatChoiceDelta] = [], usage: ChatUsage? = nil, raw: Data) {
        self.id = id
        self.model = model
        self.created = created
        self.systemFingerprint = systemFingerprint
        self.choices = choices
        self.usage = usage
        self.raw = raw
    }

    /// The text delta of choice 0 (nil when the chunk carries none).
    public var content: String? { choices.first?.content }
    /// The role of choice 0, sent on the first chunk only.
    public var role: String? { choices.first?.role }
    /// The finish reason of choice 0, on the final choice chunk only.
    public var finishReason: FinishReason? { choices.first?.finishReason }
    /// The tool-call fragments of choice 0.
    public var toolCalls: [ToolCallDelta] { choices.first?.toolCalls ?? [] }
}

/// The delta for one choice within a chunk.
public struct ChatChoiceDelta: Sendable, Hashable {
    /// The choice index (0 unless the request asked for several choices).
    public var index: Int
    /// The role, sent on the first chunk of a choice.
    public var role: String?
    /// The text fragment.
    public var content: String?
    /// Reasoning text (`reasoning_content`, `reasoning`, or Ollama's `thinking`).
    public var reasoning: String?
    /// A refusal fragment.
    public var refusal: String?
    /// Tool-call fragments.
    public var toolCalls: [ToolCallDelta]
    /// Why the choice ended; nil until its last chunk.
    public var finishReason: FinishReason?

    /// Makes a choice delta from its parts.
    public init(index: Int = 0, role: String? = nil, content: String? = nil, reasoning: String? = nil, refusal: String? = nil, toolCalls: [ToolCallDelta] = [], finishReason: FinishReason? = nil) {
        self.index = index
        self.role = role
        self.content = content
        self.reasoning = reasoning
        self.refusal = refusal
        self.toolCalls = toolCalls
        self.finishReason = finishReason
    }
}

/// A fragment of a tool call. The first fragment for an index carries id, type and name; later
/// ones carry pieces of `arguments` to concatenate. Ollama sends each call whole in one fragment.
public struct ToolCallDelta: Sendable, Hashable {
    /// Which tool call of the choice this fragment belongs to.
    public var index: Int
    /// The call id (`call_…`), on the first fragment.
    public var id: String?
    /// The call type, `function`.
    public var type: String?
    /// The function name, on the first fragment.
    public var name: String?
    /// A piece of the JSON arguments text.
    public var arguments: String?

    /// Makes a tool-call fragment.
    public init(index: Int, id: String? = nil, type: String? = nil, name: String? = nil, arguments: String? = nil) {
        self.index = index
        self.id = id
        self.type = type
        self.name = name
        self.arguments = arguments
    }
}

/// Why a choice ended: `stop`, `length`, `tool_calls`, `content_filter`, or whatever the provider
/// says (kept as text so unknown reasons pass through).
public struct FinishReason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The reason as the provider spelled it.
    public var rawValue: String
    /// Wraps a provider's reason.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The model finished on its own.
    public static let stop = FinishReason(rawValue: "stop")
    /// The output-token limit was reached.
    public static let length = FinishReason(rawValue: "length")
    /// The model called tools.
    public static let toolCalls = FinishReason(rawValue: "tool_calls")
    /// Content was filtered.
    public static let contentFilter = FinishReason(rawValue: "content_filter")

    public var description: String { rawValue }
}

/// Token usage as the provider reported it. All counts are in tokens.
public struct ChatUsage: Sendable, Hashable {
    /// Input tokens (OpenAI `prompt_tokens`, Ollama `prompt_eval_count`).
    public var promptTokens: Int
    /// Output tokens (OpenAI `completion_tokens`, Ollama `eval_count`).
    public var completionTokens: Int
    /// Total tokens as reported, or prompt + completion when not reported.
    public var totalTokens: Int
    /// Prompt tokens served from the provider's cache, when reported.
    public var cachedTokens: Int?
    /// Output tokens spent on hidden reasoning, when reported.
    public var reasoningTokens: Int?
    /// Prompt tokens written to the provider's cache (Anthropic's `cache_creation_input_tokens`), when
    /// reported; part of ``promptTokens``, billed at the cache-write price.
    public var cacheWriteTokens: Int?
    /// Of ``cacheWriteTokens``, those written for one hour (Anthropic's `ephemeral_1h_input_tokens`), billed at
    /// the one-hour write price; the rest are five-minute writes.
    public var cacheWrite1hTokens: Int?

    /// Makes a usage record.
    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil, reasoningTokens: Int? = nil,
                cacheWriteTokens: Int? = nil, cacheWrite1hTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? (promptTokens + completionTokens)
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
    }
}
