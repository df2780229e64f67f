import Foundation
import TokenMeterJSON

/// An OpenAI-shaped chat completion request (`POST /v1/chat/completions` body).
///
/// The request is the raw JSON object: fields TokenMeter does not know are kept and sent upstream
/// unchanged. Accessors cover the fields the gateway reads or rewrites.
public struct ChatRequest: Sendable, Hashable {
    /// The whole request body as a JSON object.
    public var body: JSONObject

    /// Wraps an existing JSON object.
    public init(body: JSONObject) {
        self.body = body
    }

    /// Parses a request body; it must be a JSON object.
    public init(json: Data) throws(ChatClientError) {
        guard let value = try? JSONParser.parse(json) else {
            throw .invalidRequest(reason: "the request body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw .invalidRequest(reason: "the request body must be a JSON object")
        }
        self.body = object
    }

    /// A request for `model` with plain-text `messages`; `maxTokens` (output tokens) is sent as
    /// `max_tokens` when given.
    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil) {
        var body: JSONObject = [
            "model": .string(model),
            "messages": .array(messages.map(\.json)),
        ]
        if let maxTokens { body["max_tokens"] = .int(Int64(maxTokens)) }
        self.body = body
    }

    /// The `model` field.
    public var model: String? {
        get { body["model"]?.stringValue }
        set { body["model"] = newValue.map(JSONValue.string) }
    }

    /// The `messages` array (empty when missing).
    public var messages: [JSONValue] {
        if case .array(let messages)? = body["messages"] { return messages }
        return []
    }

    /// The output-token cap in tokens: `max_completion_tokens`, else `max_tokens`.
    public var maxOutputTokens: Int? {
        get {
            (body["max_completion_tokens"]?.intValue ?? body["max_tokens"]?.intValue).map { Int($0) }
        }
        set {
            if body["max_completion_tokens"] != nil {
                body["max_completion_tokens"] = newValue.map { .int(Int64($0)) }
            } else {
                body["max_tokens"] = newValue.map { .int(Int64($0)) }
            }
        }
    }

    /// Whether the caller asked for a stream (`"stream": true`).
    public var isStreaming: Bool { body["stream"]?.boolValue ?? false }

    /// Whether the caller asked for the usage chunk (`stream_options.include_usage`).
    public var includesUsage: Bool { body["stream_options"]?["include_usage"]?.boolValue ?? false }

    /// The body as compact JSON text (UTF-8).
    public func encoded() -> Data { Data(JSONValue.object(body).encoded()) }
}

/// One plain-text chat message, for building requests in code.
public struct ChatMessage: Sendable, Hashable {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    public var role: String
    /// The message text.
    public var content: String

    /// Makes a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    var json: JSONValue { ["role": .string(role), "content": .string(content)] }
}
