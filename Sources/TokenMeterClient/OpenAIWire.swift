import Foundation
import TokenMeterJSON

/// OpenAI Chat Completions wire format (docs/reference/WIRE-FORMATS.md#openai-chat-completions):
/// request rewriting, chunk and completion decoding, error bodies.
enum OpenAIWire {
    /// The body sent upstream: the caller's request with only the keys TokenMeter must own
    /// rewritten. Streaming forces `stream: true` and `stream_options.include_usage: true` (other
    /// `stream_options` keys are kept) so that the provider reports its own usage.
    static func requestBody(for request: ChatRequest, stream: Bool) -> [UInt8] {
        var body = request.body
        body["stream"] = .bool(stream)
        if stream {
            var options: JSONObject = [:]
            if case .object(let existing)? = body["stream_options"] { options = existing }
            options["include_usage"] = .bool(true)
            body["stream_options"] = .object(options)
        } else {
            body["stream_options"] = nil
        }
        return JSONValue.object(body).encoded()
    }

    /// Decodes one SSE `data` payload (a `chat.completion.chunk`) into an event, or throws the
    /// provider's mid-stream error.
    static func event(fromChunk bytes: [UInt8], decoder: JSONDecoder) throws(ChatClientError) -> ChatEvent {
        let raw = Data(bytes)
        let chunk: ChunkWire
        do {
            // The scanner reads the usual chunk in one pass; anything it declines goes to the decoder.
            chunk = try OpenAIChunkScanner.chunk(bytes) ?? decoder.decode(ChunkWire.self, from: raw)
        } catch {
            throw .malformedStream(line: String(decoding: bytes.prefix(1024), as: UTF8.self), reason: "the SSE data is not a chat.completion.chunk JSON object")
        }
        if let error = chunk.error {
            throw .providerError(ProviderError(json: error) ?? ProviderError(message: "An error occurred during streaming"))
        }
        let choices = (chunk.choices ?? []).map { $0.delta(fallbackIndex: 0) }
        var event = ChatEvent(id: chunk.id, model: chunk.model, created: chunk.created, systemFingerprint: chunk.system_fingerprint,
                              choices: choices, usage: chunk.usage?.usage, raw: raw)
        event.unreadableUsage = chunk.usage != nil && event.usage == nil
        event.serviceTier = chunk.service_tier
        return event
    }

    /// Decodes a non-streamed `chat.completion` body.
    static func completion(from body: Data, decoder: JSONDecoder) throws(ChatClientError) -> ChatCompletion {
        guard let wire = try? decoder.decode(ChunkWire.self, from: body) else {
            throw .malformedStream(line: String(decoding: body.prefix(1024), as: UTF8.self), reason: "the response is not a chat.completion JSON object")
        }
        if let error = wire.error {
            throw .providerError(ProviderError(json: error) ?? ProviderError(message: "An error occurred"))
        }
        let choices = (wire.choices ?? []).enumerated().map { offset, choice in
            let delta = choice.delta(fallbackIndex: offset)
            return ChatCompletion.Choice(
                index: delta.index, role: delta.role ?? "assistant", content: delta.content,
                reasoning: delta.reasoning, toolCalls: delta.toolCalls, finishReason: delta.finishReason)
        }
        return ChatCompletion(id: wire.id, model: wire.model, choices: choices, usage: wire.usage?.usage, raw: body)
    }

    // MARK: Wire shapes (only the fields TokenMeter reads; everything else stays in `raw`)

    struct ChunkWire: Decodable {
        var id: String?
        var model: String?
        var created: Int64?
        var system_fingerprint: String?
        var service_tier: String?
        var choices: [ChoiceWire]?
        var usage: UsageWire?
        var error: JSONValue?
    }

    struct ChoiceWire: Decodable {
        var index: Int?
        var delta: MessageWire?
        var message: MessageWire?
        var finish_reason: String?

        func delta(fallbackIndex: Int) -> ChatChoiceDelta {
            let message = delta ?? message
            return ChatChoiceDelta(
                index: index ?? fallbackIndex,
                role: message?.role,
                content: message?.content,
                reasoning: message?.reasoning_content ?? message?.reasoning,
                refusal: message?.refusal,
                toolCalls: (message?.tool_calls ?? []).enumerated().map { offset, call in
                    ToolCallDelta(index: call.index ?? offset, id: call.id, type: call.type, name: call.function?.name, arguments: call.function?.arguments)
                },
                finishReason: finish_reason.map(FinishReason.init(rawValue:)))
        }
    }

    struct MessageWire: Decodable {
        var role: String?
        var content: String?
        var refusal: String?
        var reasoning_content: String?
        var reasoning: String?
        var tool_calls: [ToolCallWire]?
    }

    struct ToolCallWire: Decodable {
        struct Function: Decodable {
            var name: String?
            var arguments: String?
        }
        var index: Int?
        var id: String?
        var type: String?
        var function: Function?
    }

    struct UsageWire: Decodable {
        struct PromptDetails: Decodable { var cached_tokens: Int? }
        struct CompletionDetails: Decodable { var reasoning_tokens: Int? }
        var prompt_tokens: Int?
        var completion_tokens: Int?
        var total_tokens: Int?
        var prompt_tokens_details: PromptDetails?
        var completion_tokens_details: CompletionDetails?

        /// The usage, when the object names both counts; nil otherwise (a server that calls them
        /// `input_tokens`/`output_tokens`, say): a count read as zero would bill nothing for real work.
        var usage: ChatUsage? {
            guard let prompt_tokens, let completion_tokens else { return nil }
            return ChatUsage(
                promptTokens: prompt_tokens, completionTokens: completion_tokens, totalTokens: total_tokens,
                cachedTokens: prompt_tokens_details?.cached_tokens, reasoningTokens: completion_tokens_details?.reasoning_tokens)
        }
    }
}

extension ProviderError {
    /// Reads OpenAI's `{message, type, param, code}` object or Ollama's plain string.
    init?(json: JSONValue) {
        switch json {
        case .string(let message):
            self.init(message: message)
        case .object:
            func text(_ value: JSONValue?) -> String? {
                switch value {
                case .string(let string)?: return string
                case .number(let text)?: return text
                default: return nil
                }
            }
            self.init(
                message: text(json["message"]) ?? "An error occurred during streaming",
                type: text(json["type"]), code: text(json["code"]), param: text(json["param"]))
        default:
            return nil
        }
    }

    /// Reads an error response body, `{"error": ...}` in either provider's shape.
    init?(body: Data) {
        guard let json = try? JSONParser.parse(body), let error = json["error"] else { return nil }
        self.init(json: error)
    }
}
