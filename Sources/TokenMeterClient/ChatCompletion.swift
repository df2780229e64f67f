import Foundation

/// The answer of a non-streamed chat call (`"stream": false`), in OpenAI's shape whatever the
/// provider, plus the provider's raw response body.
public struct ChatCompletion: Sendable, Hashable {
    /// One finished choice.
    public struct Choice: Sendable, Hashable {
        /// The choice index.
        public var index: Int
        /// The role of the answer, normally `assistant`.
        public var role: String
        /// The answer text (nil when the model only called tools).
        public var content: String?
        /// Reasoning text when the provider returns it.
        public var reasoning: String?
        /// Complete tool calls (arguments as JSON text).
        public var toolCalls: [ToolCallDelta]
        /// Why the choice ended.
        public var finishReason: FinishReason?
    }

    /// The completion id, when the provider sends one.
    public var id: String?
    /// The model that answered.
    public var model: String?
    /// The choices; usually one.
    public var choices: [Choice]
    /// Token usage, when reported.
    public var usage: ChatUsage?
    /// The provider's response body verbatim (UTF-8 JSON).
    public var raw: Data

    /// The text of choice 0.
    public var content: String? { choices.first?.content }
    /// The finish reason of choice 0.
    public var finishReason: FinishReason? { choices.first?.finishReason }
}
