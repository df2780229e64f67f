import Foundation
import TokenMeterCatalog
import TokenMeterClient
import TokenMeterJSON
import TokenMeterTokenizer

/// A chat request body that passed validation: the catalog's view (for counting) and the client library's
/// view (the JSON object passed upstream with unknown fields kept).
struct ChatIntake: Sendable {
    /// The model as the client named it.
    let model: String
    /// The messages and tools, for the chat-rule prompt count.
    let counted: ChatPrompt
    /// The body to send upstream.
    let body: ChatRequest
    /// `stream: true`.
    let streaming: Bool
    /// `stream_options.include_usage: true`.
    let includeUsage: Bool
    /// `service_tier` as asked (`auto`, `default`, `flex`, `priority`, ...), nil when absent.
    let serviceTier: String?
    /// For `POST /v1/responses`: the client's Responses request (``body`` is then its chat translation).
    var responses: ResponsesRequest? = nil
    /// For `POST /v1/messages`: the client's Anthropic Messages request (``body`` is then its chat translation).
    var messages: MessagesRequest? = nil

    init(model: String, counted: ChatPrompt, body: ChatRequest, streaming: Bool, includeUsage: Bool, serviceTier: String?,
         responses: ResponsesRequest?, messages: MessagesRequest? = nil) {
        self.messages = messages
        self.model = model
        self.counted = counted
        self.body = body
        self.streaming = streaming
        self.includeUsage = includeUsage
        self.serviceTier = serviceTier
        self.responses = responses
    }

    /// Validates a raw body. Refuses invalid UTF-8, malformed JSON, wrong types, missing or empty `messages`,
    /// a missing `model`, `n` other than 1, and `max_tokens` / `max_completion_tokens` that are not whole
    /// numbers from 1 to `maxTokensCeiling`, each with OpenAI's 400 body naming the field.
    init(bytes: [UInt8], maxTokensCeiling: Int) throws(GatewayError) {
        guard UTF8Validation.firstInvalidOffset(in: bytes) == nil else {
            throw .badRequest("The request body is not valid UTF-8.")
        }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, keepingMemberText: true) } catch {
            throw .badRequest("We could not parse the JSON body of your request: \(error). "
                + "(HINT: This likely means you aren't using your HTTP library correctly.)")
        }
        do { counted = try ChatPrompt(root) } catch {
            switch error {
            case .missingField(let path): throw .badRequest("Missing required parameter: '\(path)'.", param: path)
            case .invalidField(let path, let problem): throw .badRequest("Invalid '\(path)': \(problem).", param: path)
            case .malformedJSON(let e): throw .badRequest("We could not parse the JSON body of your request: \(e).")
            }
        }
        guard let model = counted.model, !model.isEmpty else {
            throw .badRequest("Missing required parameter: 'model'.", param: "model")
        }
        self.model = model
        if let tokens = counted.maxOutputTokens, tokens > maxTokensCeiling {
            throw .badRequest("Invalid 'max_tokens': \(tokens) is more than the most this server allows (\(maxTokensCeiling)).",
                              param: "max_tokens", code: "invalid_value")
        }
        switch root["stream"] {
        case nil, .null?: streaming = false
        case .bool(let b)?: streaming = b
        case let v?: throw .badRequest("Invalid 'stream': expected a boolean, found \(v.typeName).", param: "stream")
        }
        switch root["stream_options"] {
        case nil, .null?: includeUsage = false
        case .object?:
            switch root["stream_options"]?["include_usage"] {
            case nil, .null?: includeUsage = false
            case .bool(let b)?: includeUsage = b
            case let v?: throw .badRequest("Invalid 'stream_options.include_usage': expected a boolean, found \(v.typeName).",
                                           param: "stream_options.include_usage")
            }
        case let v?: throw .badRequest("Invalid 'stream_options': expected an object, found \(v.typeName).", param: "stream_options")
        }
        switch root["service_tier"] {
        case nil, .null?: serviceTier = nil
        case .string(let tier)?: serviceTier = tier
        case let v?: throw .badRequest("Invalid 'service_tier': expected a string, found \(v.typeName).", param: "service_tier")
        }
        if let n = root["n"], n != .null, n.integerValue != 1 {
            throw .badRequest("Invalid 'n': TokenMeter meters one choice per request; send n = 1 or leave it out.", param: "n")
        }
        // The body sent upstream is this same parse (unknown fields, member order and number text kept).
        guard case .object(let members) = root else {
            throw .badRequest("The request body must be a JSON object.")
        }
        body = ChatRequest(body: members)
    }
}
