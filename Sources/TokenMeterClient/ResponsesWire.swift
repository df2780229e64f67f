import Foundation
import TokenMeterJSON

/// The OpenAI Responses wire format (docs/reference/WIRE-FORMATS.md#openai-responses): the request body sent
/// upstream, and the typed stream events decoded into ``ChatEvent``s so that one metering path serves both
/// APIs. Each event keeps its parsed object (``ChatEvent/typed``) and its raw bytes for pass-through.
enum ResponsesWire {
    /// The body sent upstream: the caller's Responses request with `stream` set. Nothing else is rewritten.
    static func requestBody(for request: ChatRequest, stream: Bool) -> [UInt8] {
        var body = request.body
        body["stream"] = .bool(stream)
        if !stream { body["stream_options"] = nil }
        return JSONValue.object(body).encoded()
    }

    /// Decodes one SSE `data` payload of a Responses stream.
    ///
    /// What is metered goes into the event's choice 0: `response.output_text.delta` as content,
    /// `response.refusal.delta` as refusal, reasoning text and summary deltas as reasoning, a function call's
    /// name (from `response.output_item.added`) and its `response.function_call_arguments.delta` pieces as a
    /// tool-call fragment indexed by the item's `output_index`. The `.done` events repeat text already
    /// delivered and are not metered. A terminal event carries the usage (`input_tokens`, `output_tokens` and
    /// their details) and a finish reason. `response.failed` and `error` are thrown as the provider's error.
    static func event(fromData bytes: [UInt8]) throws(ChatClientError) -> ChatEvent {
        guard let value = try? JSONParser.parse(bytes), case .object(let object) = value,
              let type = object["type"]?.stringValue
        else {
            throw .malformedStream(line: String(decoding: bytes.prefix(1024), as: UTF8.self),
                                   reason: "the SSE data is not a Responses stream event (a JSON object with a type)")
        }
        var event = ChatEvent(raw: Data(bytes))
        event.typed = TypedEvent(type: type, object: object)
        let delta = object["delta"]?.stringValue
        switch type {
        case "response.created", "response.in_progress", "response.queued":
            adoptIdentity(object["response"], into: &event)
        case "response.output_text.delta":
            event.choices = [ChatChoiceDelta(content: delta ?? "")]
        case "response.refusal.delta":
            event.choices = [ChatChoiceDelta(refusal: delta ?? "")]
        case "response.reasoning_text.delta", "response.reasoning_summary_text.delta":
            event.choices = [ChatChoiceDelta(reasoning: delta ?? "")]
        case "response.output_item.added":
            let item = object["item"]
            if item?["type"]?.stringValue == "function_call" {
                let call = ToolCallDelta(index: object["output_index"]?.integerValue ?? 0, id: item?["call_id"]?.stringValue,
                                         type: "function", name: item?["name"]?.stringValue ?? "",
                                         arguments: item?["arguments"]?.stringValue ?? "")
                event.choices = [ChatChoiceDelta(toolCalls: [call])]
            }
        case "response.function_call_arguments.delta":
            let call = ToolCallDelta(index: object["output_index"]?.integerValue ?? 0, arguments: delta ?? "")
            event.choices = [ChatChoiceDelta(toolCalls: [call])]
        case "response.completed", "response.incomplete":
            let response = object["response"]
            adoptIdentity(response, into: &event)
            event.serviceTier = response?["service_tier"]?.stringValue
            if let usage = response?["usage"], usage != .null {
                event.usage = Self.usage(usage)
                event.unreadableUsage = event.usage == nil
            }
            event.choices = [ChatChoiceDelta(finishReason: finishReason(of: response))]
            // The finish is not metered text: the choice exists only to carry the reason.
            if event.usage != nil { event.choices = [] }
        case "response.failed":
            let error = object["response"]?["error"]
            throw .providerError(error.flatMap(ProviderError.init(json:)) ?? ProviderError(message: "The response failed"))
        default:
            break
        }
        return event
    }

    /// The finish reason a chat client would see for a finished response object: `length` for an answer cut
    /// at `max_output_tokens`, `content_filter` for one the provider filtered, `tool_calls` when the output
    /// ends with function calls, else `stop`.
    static func finishReason(of response: JSONValue?) -> FinishReason {
        if response?["status"]?.stringValue == "incomplete" {
            return response?["incomplete_details"]?["reason"]?.stringValue == "content_filter" ? .contentFilter : .length
        }
        if case .array(let output)? = response?["output"], output.last?["type"]?.stringValue == "function_call" {
            return .toolCalls
        }
        return .stop
    }

    /// A Responses usage object read as ``ChatUsage``; nil when it lacks `input_tokens` or `output_tokens`.
    static func usage(_ value: JSONValue) -> ChatUsage? {
        guard let input = value["input_tokens"]?.integerValue, let output = value["output_tokens"]?.integerValue else { return nil }
        return ChatUsage(promptTokens: input, completionTokens: output, totalTokens: value["total_tokens"]?.integerValue,
                         cachedTokens: value["input_tokens_details"]?["cached_tokens"]?.integerValue,
                         reasoningTokens: value["output_tokens_details"]?["reasoning_tokens"]?.integerValue)
    }

    /// Decodes a non-streamed response object into the chat shape (text of its messages, function calls).
    static func completion(from body: Data) throws(ChatClientError) -> ChatCompletion {
        guard let value = try? JSONParser.parse(Array(body)), case .object = value else {
            throw .malformedStream(line: String(decoding: body.prefix(1024), as: UTF8.self), reason: "the response is not a Responses JSON object")
        }
        if let error = value["error"], error != .null {
            throw .providerError(ProviderError(json: error) ?? ProviderError(message: "An error occurred"))
        }
        var text: String?
        var calls: [ToolCallDelta] = []
        var reasoning: String?
        for (index, item) in (value["output"]?.arrayValue ?? []).enumerated() {
            switch item["type"]?.stringValue {
            case "message":
                for part in item["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "output_text" {
                    text = (text ?? "") + (part["text"]?.stringValue ?? "")
                }
            case "function_call":
                calls.append(ToolCallDelta(index: index, id: item["call_id"]?.stringValue, type: "function",
                                           name: item["name"]?.stringValue, arguments: item["arguments"]?.stringValue))
            case "reasoning":
                for part in (item["summary"]?.arrayValue ?? []) + (item["content"]?.arrayValue ?? []) {
                    reasoning = (reasoning ?? "") + (part["text"]?.stringValue ?? "")
                }
            default:
                break
            }
        }
        let choice = ChatCompletion.Choice(index: 0, role: "assistant", content: text, reasoning: reasoning, toolCalls: calls,
                                           finishReason: finishReason(of: value))
        return ChatCompletion(id: value["id"]?.stringValue, model: value["model"]?.stringValue, choices: [choice],
                              usage: value["usage"].flatMap(usage), raw: body)
    }

    private static func adoptIdentity(_ response: JSONValue?, into event: inout ChatEvent) {
        event.id = response?["id"]?.stringValue
        event.model = response?["model"]?.stringValue
        event.created = response?["created_at"]?.intValue
    }
}
