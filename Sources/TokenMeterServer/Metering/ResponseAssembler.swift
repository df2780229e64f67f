import Foundation
import TokenMeterClient
import TokenMeterJSON

/// The Responses object of one metered stream as it is built, and the typed events that build it
/// (docs/reference/WIRE-FORMATS.md#openai-responses).
///
/// Two ways in, one state:
/// - **translated** (a chat-completions upstream): ``translate(_:)`` turns each chat delta into the events a
///   Responses stream has (`response.created`, `response.output_item.added`, `response.content_part.added`,
///   `response.output_text.delta`, ...), numbering them from 0;
/// - **native** (a Responses upstream): ``observe(_:)`` follows the upstream's own events, which pass through
///   unchanged, and mirrors the items they open.
///
/// Either way the state knows which items and content parts are still open, so that a budget cut, an upstream
/// that ends without its terminal event, or a failure can close them (``finish(_:)``): `.done` events with the
/// text delivered, then `response.completed`, `response.incomplete` or `response.failed` carrying the whole
/// response object.
struct ResponseAssembler: TypedEventAssembler {
    /// One event to write (its object carries `type` and `sequence_number`).
    typealias Event = AssembledEvent

    /// How the response ends.
    enum Ending {
        /// The upstream finished; `reason` says whether it stopped at its output cap or filter.
        case finished(FinishReason?, usage: JSONValue)
        /// The budget ran out after `completionTokens` delivered.
        case cut(completionTokens: Int, usage: JSONValue)
        /// The stream failed with an error the client should see.
        case failed(GatewayError)
    }

    private struct Part {
        var object: JSONObject
        var text = ""
        var open = true
    }

    private struct Item {
        var object: JSONObject
        var parts: [Int: Part] = [:]
        var summary: [Int: String] = [:]
        var arguments = ""
        var open = true
        /// The upstream's own finished item (native), written as it is.
        var finished: JSONObject?

        var id: String { object["id"]?.stringValue ?? "" }
        var type: String { object["type"]?.stringValue ?? "" }
    }

    /// The client's Responses request (echoed in a translated response object).
    private let request: JSONObject
    /// Whether the events come from a Responses upstream (observed) rather than from chat deltas (translated).
    let native: Bool
    private let idSuffix: String
    private var id: String
    private var createdAt: JSONValue
    private var model: String
    /// The upstream's latest response object (native).
    private var upstreamResponse: JSONObject?
    /// The upstream's terminal event (native): the response already ended on the wire.
    private(set) var terminal: TypedEvent?
    private var items: [Int: Item] = [:]
    /// Output index of each chat tool-call index (translated).
    private var toolItems: [Int: Int] = [:]
    private var nextSequence = 0
    private var started = false
    private var finishReason: FinishReason?
    private var serviceTier: String?

    init(admitted: AdmittedRequest) {
        request = admitted.responses?.body ?? [:]
        native = admitted.upstreamSpeaksResponses
        idSuffix = admitted.requestID.hasPrefix("chatcmpl-") ? String(admitted.requestID.dropFirst(9)) : admitted.requestID
        id = "resp_" + idSuffix
        createdAt = .int(Int64(Date().timeIntervalSince1970))
        model = admitted.requestedModel
    }

    // MARK: Native: following the upstream's events

    /// Follows one upstream event that is passed through to the client.
    mutating func observe(_ event: TypedEvent, usage: ChatUsage? = nil) {
        if let sequence = event.sequenceNumber { nextSequence = max(nextSequence, sequence + 1) }
        let o = event.object
        let index = event.outputIndex ?? 0
        let delta = o["delta"]?.stringValue ?? ""
        switch event.type {
        case "response.created", "response.in_progress", "response.queued":
            adopt(event.response)
        case "response.completed", "response.incomplete", "response.failed":
            adopt(event.response)
            terminal = event
        case "response.output_item.added":
            guard let item = o["item"]?.objectValue else { return }
            items[index] = Item(object: item, arguments: item["arguments"]?.stringValue ?? "")
        case "response.output_item.done":
            items[index, default: Item(object: [:])].open = false
            items[index]?.finished = o["item"]?.objectValue
        case "response.content_part.added":
            guard let part = o["part"]?.objectValue, let content = event.contentIndex else { return }
            items[index]?.parts[content] = Part(object: part, text: part["text"]?.stringValue ?? part["refusal"]?.stringValue ?? "")
        case "response.content_part.done":
            if let content = event.contentIndex { items[index]?.parts[content]?.open = false }
        case "response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta":
            if let content = event.contentIndex { items[index]?.parts[content]?.text += delta }
        case "response.reasoning_summary_part.added":
            if let summary = o["summary_index"]?.integerValue { items[index]?.summary[summary] = "" }
        case "response.reasoning_summary_text.delta":
            if let summary = o["summary_index"]?.integerValue { items[index]?.summary[summary, default: ""] += delta }
        case "response.function_call_arguments.delta":
            items[index]?.arguments += delta
        default:
            break
        }
    }

    /// The part of an upstream text delta that the budget still pays for, as the event to write in its place
    /// (same item, part and sequence number); nil when nothing of it is delivered.
    mutating func trimmed(_ event: TypedEvent, to prefix: String) -> Event? {
        guard !prefix.isEmpty, event.type == "response.output_text.delta" else { return nil }
        var object = event.object
        object["delta"] = .string(prefix)
        let trimmed = TypedEvent(type: event.type, object: object)
        observe(trimmed)
        return Event(type: event.type, object: object)
    }

    private mutating func adopt(_ response: JSONObject?) {
        guard let response else { return }
        upstreamResponse = response
        if let id = response["id"]?.stringValue { self.id = id }
        if let created = response["created_at"] { createdAt = created }
        if let model = response["model"]?.stringValue { self.model = model }
    }

    // MARK: Translated: events from chat deltas

    /// The events that deliver one chat delta (metered and admitted in full): reasoning, text, refusal and
    /// tool-call fragments, each in its own output item.
    mutating func translate(_ event: ChatEvent) -> [Event] {
        if let model = event.model, !started { self.model = model }
        var out = start()
        if let tier = event.serviceTier { serviceTier = tier }
        guard let choice = event.choices.first else { return out }
        if let reasoning = choice.reasoning, !reasoning.isEmpty {
            out += text(reasoning, kind: "reasoning_text", itemType: "reasoning")
        }
        if let content = choice.content, !content.isEmpty { out += text(content, kind: "output_text", itemType: "message") }
        if let refusal = choice.refusal, !refusal.isEmpty { out += text(refusal, kind: "refusal", itemType: "message") }
        for call in choice.toolCalls {
            let index: Int
            if let known = toolItems[call.index] {
                index = known
            } else {
                out += closeOpenItems(status: "completed")
                index = items.count
                toolItems[call.index] = index
                let item: JSONObject = [
                    "id": .string("fc_\(idSuffix)_\(index)"), "type": "function_call", "status": "in_progress",
                    "arguments": "", "call_id": .string(call.id ?? "call_\(idSuffix)_\(index)"), "name": .string(call.name ?? ""),
                ]
                items[index] = Item(object: item)
                out.append(make("response.output_item.added", ["output_index": .int(index), "item": .object(item)]))
            }
            if let arguments = call.arguments, !arguments.isEmpty {
                items[index]?.arguments += arguments
                out.append(make("response.function_call_arguments.delta", [
                    "item_id": .string(items[index]!.id), "output_index": .int(index), "delta": .string(arguments),
                ]))
            }
        }
        if let reason = choice.finishReason { finishReason = reason }
        return out
    }

    /// The events that deliver the text kept at a budget cut (translated).
    mutating func translateCut(_ prefix: String) -> [Event] {
        prefix.isEmpty ? start() : start() + text(prefix, kind: "output_text", itemType: "message")
    }

    /// `response.created` and `response.in_progress`, once, before anything else.
    private mutating func start() -> [Event] {
        guard !native, !started else { return [] }
        started = true
        let response = JSONValue.object(responseObject(status: "in_progress", usage: .null))
        return [make("response.created", ["response": response]), make("response.in_progress", ["response": response])]
    }

    /// Appends `delta` to the open part of `kind` in the last item when it is an open `itemType` item, else
    /// opens the item and the part first.
    private mutating func text(_ delta: String, kind: String, itemType: String) -> [Event] {
        var out: [Event] = []
        var index = items.count - 1
        if index < 0 || items[index]?.type != itemType || items[index]?.open != true {
            out += closeOpenItems(status: "completed")
            index = items.count
            let prefix = itemType == "message" ? "msg" : "rs"
            var item: JSONObject = ["id": .string("\(prefix)_\(idSuffix)_\(index)"), "type": .string(itemType)]
            if itemType == "message" {
                item["status"] = "in_progress"
                item["role"] = "assistant"
                item["content"] = []
            } else {
                item["summary"] = []
                item["content"] = []
            }
            items[index] = Item(object: item)
            out.append(make("response.output_item.added", ["output_index": .int(index), "item": .object(item)]))
        }
        let itemID = JSONValue.string(items[index]!.id)
        var content = items[index]!.parts.keys.max() ?? -1
        if content < 0 || items[index]!.parts[content]!.object["type"]?.stringValue != kind || !items[index]!.parts[content]!.open {
            if content >= 0 { out += closePart(item: index, content: content) }
            content += 1
            let part = Self.emptyPart(kind)
            items[index]!.parts[content] = Part(object: part)
            out.append(make("response.content_part.added", [
                "item_id": itemID, "output_index": .int(index), "content_index": .int(content), "part": .object(part),
            ]))
        }
        items[index]!.parts[content]!.text += delta
        let type = kind == "output_text" ? "response.output_text.delta" : kind == "refusal" ? "response.refusal.delta"
            : "response.reasoning_text.delta"
        var event: JSONObject = ["item_id": itemID, "output_index": .int(index), "content_index": .int(content), "delta": .string(delta)]
        if kind == "output_text" { event["logprobs"] = [] }
        out.append(make(type, event))
        return out
    }

    private static func emptyPart(_ kind: String) -> JSONObject {
        switch kind {
        case "output_text": ["type": "output_text", "text": "", "annotations": [], "logprobs": []]
        case "refusal": ["type": "refusal", "refusal": ""]
        default: ["type": .string(kind), "text": ""]
        }
    }

    // MARK: Ending

    /// Closes what is open and writes the terminal event: `response.completed` (or `response.incomplete` when
    /// the upstream stopped at its output cap or filter), `response.incomplete` with reason
    /// `max_output_tokens` at a budget cut, `response.failed` on an error.
    mutating func finish(_ ending: Ending) -> [Event] {
        var out = start()
        switch ending {
        case .finished(let reason, let usage):
            let status = Self.status(of: reason ?? finishReason)
            out += closeOpenItems(status: status == "completed" ? "completed" : "incomplete")
            var response = responseObject(status: status, usage: usage)
            if status == "incomplete" {
                response["incomplete_details"] = ["reason": (reason ?? finishReason) == .contentFilter ? "content_filter" : "max_output_tokens"]
            }
            out.append(make(status == "completed" ? "response.completed" : "response.incomplete", ["response": .object(response)]))
        case .cut(let completionTokens, let usage):
            out += closeOpenItems(status: "incomplete")
            var response = responseObject(status: "incomplete", usage: usage)
            response["incomplete_details"] = ["reason": "max_output_tokens"]
            response["tokenmeter"] = ["cut_by_budget": true, "completion_tokens": .int(completionTokens)]
            out.append(make("response.incomplete", ["response": .object(response)]))
        case .failed(let error):
            out += closeOpenItems(status: "incomplete")
            var response = responseObject(status: "failed", usage: .null)
            response["error"] = ["code": .string(error.code ?? "server_error"), "message": .string(error.message)]
            out.append(make("response.failed", ["response": .object(response)]))
        }
        return out
    }

    /// The response status a chat finish reason means.
    static func status(of reason: FinishReason?) -> String {
        reason == .length || reason == .contentFilter ? "incomplete" : "completed"
    }

    private mutating func closeOpenItems(status: String) -> [Event] {
        var out: [Event] = []
        for index in items.keys.sorted() where items[index]!.open {
            for content in items[index]!.parts.keys.sorted() where items[index]!.parts[content]!.open {
                out += closePart(item: index, content: content)
            }
            let item = items[index]!
            if item.type == "function_call" {
                out.append(make("response.function_call_arguments.done", [
                    "item_id": .string(item.id), "output_index": .int(index), "arguments": .string(item.arguments),
                ]))
            }
            items[index]!.open = false
            out.append(make("response.output_item.done", ["output_index": .int(index), "item": .object(rendered(index, status: status))]))
        }
        return out
    }

    private mutating func closePart(item index: Int, content: Int) -> [Event] {
        let part = items[index]!.parts[content]!
        items[index]!.parts[content]!.open = false
        let kind = part.object["type"]?.stringValue ?? ""
        var done: JSONObject = ["item_id": .string(items[index]!.id), "output_index": .int(index), "content_index": .int(content)]
        var out: [Event] = []
        switch kind {
        case "output_text":
            done["text"] = .string(part.text)
            done["logprobs"] = []
            out.append(make("response.output_text.done", done))
        case "refusal":
            done["refusal"] = .string(part.text)
            out.append(make("response.refusal.done", done))
        case "reasoning_text":
            done["text"] = .string(part.text)
            out.append(make("response.reasoning_text.done", done))
        default:
            break
        }
        done["text"] = nil
        done["refusal"] = nil
        done["logprobs"] = nil
        done["part"] = .object(Self.filled(part))
        out.append(make("response.content_part.done", done))
        return out
    }

    private static func filled(_ part: Part) -> JSONObject {
        var object = part.object
        object[object["type"]?.stringValue == "refusal" ? "refusal" : "text"] = .string(part.text)
        return object
    }

    /// Item `index` as the response object shows it: the upstream's own finished item, else built from what
    /// was delivered, with `status` when it is still open.
    private func rendered(_ index: Int, status: String) -> JSONObject {
        let item = items[index]!
        if let finished = item.finished { return finished }
        var object = item.object
        if object["status"] != nil || item.type == "message" || item.type == "function_call" {
            object["status"] = .string(item.open ? "in_progress" : status)
        }
        switch item.type {
        case "message", "reasoning":
            if !item.parts.isEmpty || item.type == "message" {
                object["content"] = .array(item.parts.keys.sorted().map { .object(Self.filled(item.parts[$0]!)) })
            }
            if item.type == "reasoning" {
                object["summary"] = .array(item.summary.keys.sorted().map { ["type": "summary_text", "text": .string(item.summary[$0]!)] })
            }
        case "function_call":
            object["arguments"] = .string(item.arguments)
        default:
            break
        }
        return object
    }

    /// The response object with `status` and `usage`: the upstream's own (native), or one that echoes the
    /// client's request the way OpenAI's does (translated).
    func responseObject(status: String, usage: JSONValue) -> JSONObject {
        let output = JSONValue.array(items.keys.sorted().map { .object(rendered($0, status: status == "completed" ? "completed" : "incomplete")) })
        if var response = upstreamResponse {
            response["status"] = .string(status)
            response["output"] = output
            response["usage"] = usage
            return response
        }
        let r = request
        var reasoning: JSONObject = ["effort": r["reasoning"]?["effort"] ?? .null, "summary": .null]
        if r["reasoning"] == nil { reasoning = ["effort": .null, "summary": .null] }
        return [
            "id": .string(id), "object": "response", "created_at": createdAt, "status": .string(status),
            "background": false, "error": .null, "incomplete_details": .null,
            "instructions": r["instructions"] ?? .null, "max_output_tokens": r["max_output_tokens"] ?? .null,
            "max_tool_calls": .null, "model": .string(model), "output": output,
            "parallel_tool_calls": r["parallel_tool_calls"] ?? true, "previous_response_id": .null,
            "reasoning": .object(reasoning), "service_tier": serviceTier.map(JSONValue.string) ?? r["service_tier"] ?? "default",
            "store": r["store"] ?? true, "temperature": r["temperature"] ?? 1, "text": r["text"] ?? ["format": ["type": "text"]],
            "tool_choice": r["tool_choice"] ?? "auto", "tools": r["tools"] ?? [], "top_p": r["top_p"] ?? 1,
            "truncation": r["truncation"] ?? "disabled", "usage": usage, "user": r["user"] ?? .null,
            "metadata": r["metadata"] ?? [:],
        ]
    }

    /// An event of `type` with the next sequence number.
    private mutating func make(_ type: String, _ fields: JSONObject) -> Event {
        var object: JSONObject = ["type": .string(type), "sequence_number": .int(nextSequence)]
        nextSequence += 1
        for (key, value) in fields { object[key] = value }
        return Event(type: type, object: object)
    }

    /// A Responses usage object: prompt and completion tokens with their cached and reasoning parts.
    static func usage(input: Int64, output: Int64, cached: Int64?, reasoning: Int64?) -> JSONValue {
        [
            "input_tokens": .int(input), "input_tokens_details": ["cached_tokens": .int(cached ?? 0)],
            "output_tokens": .int(output), "output_tokens_details": ["reasoning_tokens": .int(reasoning ?? 0)],
            "total_tokens": .int(input + output),
        ]
    }
}
