import TokenMeterJSON

/// One typed event of an OpenAI Responses stream (`event: <type>` / `data: {"type": ..., "sequence_number": ...}`)
/// or of an Anthropic Messages stream (`event: <type>` / `data: {"type": ..., "index": ...}`), as parsed JSON
/// (docs/reference/WIRE-FORMATS.md#openai-responses, docs/reference/ANTHROPIC.md).
public struct TypedEvent: Sendable, Hashable {
    /// `response.created`, `response.output_text.delta`, `response.completed`, ...
    public var type: String
    /// The whole event object.
    public var object: JSONObject

    /// Wraps a parsed event.
    public init(type: String, object: JSONObject) {
        self.type = type
        self.object = object
    }

    /// The event's `sequence_number`, when it has one.
    public var sequenceNumber: Int? { object["sequence_number"]?.integerValue }
    /// The `output_index` of the item the event is about.
    public var outputIndex: Int? { object["output_index"]?.integerValue }
    /// The `content_index` of the content part the event is about.
    public var contentIndex: Int? { object["content_index"]?.integerValue }
    /// The response object of a lifecycle event (`response.created`, `response.completed`, ...).
    public var response: JSONObject? { object["response"]?.objectValue }

    /// The content block index of an Anthropic event.
    public var index: Int? { object["index"]?.integerValue }

    /// The last event of a stream: `response.completed`, `response.incomplete` or `response.failed`
    /// (Responses), `message_stop` (Anthropic).
    public var isTerminal: Bool {
        type == "response.completed" || type == "response.incomplete" || type == "response.failed" || type == "message_stop"
    }
}
