import Foundation
import TokenMeterClient
import TokenMeterJSON

/// The Anthropic message of one metered stream as it is built, and the typed events that build it
/// (docs/reference/ANTHROPIC.md).
///
/// Two ways in, one state, as in ``ResponseAssembler``:
/// - **translated** (a chat-completions or Ollama upstream): ``translate(_:)`` turns each chat delta into the
///   events an Anthropic stream has (`message_start`, `content_block_start`, `content_block_delta` with
///   `text_delta`, `thinking_delta` or `input_json_delta`, `content_block_stop`, ...);
/// - **native** (an Anthropic upstream): ``observe(_:)`` follows the upstream's own events, which pass through
///   unchanged, and mirrors the content blocks they open.
///
/// Either way ``finish(_:)`` closes what is open: `content_block_stop` for each open block, `message_delta`
/// with the stop reason and usage, `message_stop`; or an `error` event.
struct MessageAssembler: TypedEventAssembler {
    /// One event to write.
    typealias Event = AssembledEvent

    /// How the message ends.
    enum Ending {
        /// The upstream finished with `reason` (nil: its own stop reason was passed through, or `end_turn`).
        case finished(FinishReason?)
        /// The budget ran out after `completionTokens` delivered.
        case cut(completionTokens: Int)
        /// The stream failed with an error the client should see.
        case failed(GatewayError)
    }

    private struct Block {
        var object: JSONObject
        var text = ""
        var signature = ""
        var json = ""
        var open = true
        var type: String { object["type"]?.stringValue ?? "" }
    }

    /// Whether the events come from an Anthropic upstream (observed) rather than from chat deltas.
    let native: Bool
    private let promptTokens: Int
    private var id: String
    private var model: String
    private var blocks: [Block] = []
    /// Chat tool-call index → block index (translated).
    private var toolBlocks: [Int: Int] = [:]
    private var started = false
    private var stopReason: String?
    /// The provider's usage, when an event carried it.
    private(set) var usage: ChatUsage?
    /// The upstream's `message_stop` was seen (native): the message already ended on the wire.
    private(set) var stopped = false

    init(admitted: AdmittedRequest) {
        native = admitted.upstreamSpeaksMessages
        promptTokens = admitted.promptTokens
        let suffix = admitted.requestID.hasPrefix("chatcmpl-") ? String(admitted.requestID.dropFirst(9)) : admitted.requestID
        id = "msg_" + suffix
        model = admitted.requestedModel
    }

    // MARK: Native

    /// Follows one upstream event that is passed through to the client.
    mutating func observe(_ event: TypedEvent, usage eventUsage: ChatUsage? = nil) {
        if let eventUsage { usage = eventUsage }
        let o = event.object
        let index = event.index ?? 0
        switch event.type {
        case "message_start":
            started = true
            if let id = o["message"]?["id"]?.stringValue { self.id = id }
            if let model = o["message"]?["model"]?.stringValue { self.model = model }
        case "content_block_start":
            guard let block = o["content_block"]?.objectValue else { return }
            while blocks.count <= index { blocks.append(Block(object: ["type": "text", "text": ""])) }
            blocks[index] = Block(object: block, text: block["text"]?.stringValue ?? block["thinking"]?.stringValue ?? "")
        case "content_block_delta":
            guard blocks.indices.contains(index) else { return }
            let delta = o["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta"?: blocks[index].text += delta?["text"]?.stringValue ?? ""
            case "thinking_delta"?: blocks[index].text += delta?["thinking"]?.stringValue ?? ""
            case "signature_delta"?: blocks[index].signature += delta?["signature"]?.stringValue ?? ""
            case "input_json_delta"?: blocks[index].json += delta?["partial_json"]?.stringValue ?? ""
            default: break
            }
        case "content_block_stop":
            if blocks.indices.contains(index) { blocks[index].open = false }
        case "message_delta":
            if let reason = o["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
        case "message_stop":
            stopped = true
        default:
            break
        }
    }

    /// The part of an upstream text delta that the budget still pays for, as the event to write in its place;
    /// nil when nothing of it is delivered.
    mutating func trimmed(_ event: TypedEvent, to prefix: String) -> Event? {
        guard !prefix.isEmpty, event.type == "content_block_delta", event.object["delta"]?["type"]?.stringValue == "text_delta" else {
            return nil
        }
        var object = event.object
        object["delta"] = ["type": "text_delta", "text": .string(prefix)]
        observe(TypedEvent(type: event.type, object: object), usage: nil)
        return Event(type: event.type, object: object)
    }

    // MARK: Translated

    /// The events that deliver one chat delta (metered and admitted in full).
    mutating func translate(_ event: ChatEvent) -> [Event] {
        if let eventUsage = event.usage { usage = eventUsage }
        if let model = event.model, !started { self.model = model }
        var out = start()
        guard let choice = event.choices.first else { return out }
        if let reasoning = choice.reasoning, !reasoning.isEmpty { out += text(reasoning, type: "thinking") }
        if let content = choice.content, !content.isEmpty { out += text(content, type: "text") }
        if let refusal = choice.refusal, !refusal.isEmpty { out += text(refusal, type: "text") }
        for call in choice.toolCalls {
            let index: Int
            if let known = toolBlocks[call.index] {
                index = known
            } else {
                out += closeOpenBlocks()
                index = blocks.count
                toolBlocks[call.index] = index
                let block: JSONObject = ["type": "tool_use", "id": .string(call.id ?? "toolu_\(id)_\(index)"), "name": .string(call.name ?? ""),
                                         "input": [:]]
                blocks.append(Block(object: block))
                out.append(Self.event("content_block_start", ["index": .int(index), "content_block": .object(block)]))
            }
            if let arguments = call.arguments, !arguments.isEmpty {
                blocks[index].json += arguments
                out.append(Self.event("content_block_delta", ["index": .int(index),
                                                              "delta": ["type": "input_json_delta", "partial_json": .string(arguments)]]))
            }
        }
        if let reason = choice.finishReason { stopReason = Self.stopReason(reason) }
        return out
    }

    /// The events that deliver the text kept at a budget cut (translated).
    mutating func translateCut(_ prefix: String) -> [Event] {
        prefix.isEmpty ? start() : start() + text(prefix, type: "text")
    }

    private mutating func start() -> [Event] {
        guard !native, !started else { return [] }
        started = true
        let message: JSONObject = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
            "stop_reason": .null, "stop_sequence": .null,
            "usage": ["input_tokens": .int(promptTokens), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0],
        ]
        return [Self.event("message_start", ["message": .object(message)])]
    }

    private mutating func text(_ delta: String, type: String) -> [Event] {
        var out: [Event] = []
        if blocks.last?.type != type || blocks.last?.open != true {
            out += closeOpenBlocks()
            let block: JSONObject = type == "thinking" ? ["type": "thinking", "thinking": "", "signature": ""] : ["type": "text", "text": ""]
            blocks.append(Block(object: block))
            out.append(Self.event("content_block_start", ["index": .int(blocks.count - 1), "content_block": .object(block)]))
        }
        blocks[blocks.count - 1].text += delta
        let body: JSONValue = type == "thinking" ? ["type": "thinking_delta", "thinking": .string(delta)] : ["type": "text_delta", "text": .string(delta)]
        out.append(Self.event("content_block_delta", ["index": .int(blocks.count - 1), "delta": body]))
        return out
    }

    // MARK: Ending

    /// Closes what is open and ends the message.
    mutating func finish(_ ending: Ending) -> [Event] {
        var out = start()
        switch ending {
        case .failed(let error):
            out.append(Self.event("error", ["error": ["type": .string(Self.errorType(error)), "message": .string(error.message)]]))
            return out
        case .finished(let reason):
            out += closeOpenBlocks()
            if let reason { stopReason = Self.stopReason(reason) }
            out.append(Self.event("message_delta", ["delta": ["stop_reason": .string(stopReason ?? "end_turn"), "stop_sequence": .null],
                                                    "usage": usageObject(completionTokens: nil)]))
        case .cut(let completionTokens):
            out += closeOpenBlocks()
            stopReason = "max_tokens"
            out.append(Self.event("message_delta", [
                "delta": ["stop_reason": "max_tokens", "stop_sequence": .null],
                "usage": ["output_tokens": .int(completionTokens)],
                "tokenmeter": ["cut_by_budget": true, "completion_tokens": .int(completionTokens)],
            ]))
        }
        out.append(Self.event("message_stop", [:]))
        return out
    }

    private mutating func closeOpenBlocks() -> [Event] {
        var out: [Event] = []
        for index in blocks.indices where blocks[index].open {
            blocks[index].open = false
            out.append(Self.event("content_block_stop", ["index": .int(index)]))
        }
        return out
    }

    /// The whole message (`stream: false`), with `usage` as billed.
    func message(usage billed: JSONValue, cut: Int?) -> JSONObject {
        var message: JSONObject = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model),
            "content": .array(blocks.map { .object(Self.rendered($0)) }),
            "stop_reason": .string(cut != nil ? "max_tokens" : stopReason ?? "end_turn"), "stop_sequence": .null, "usage": billed,
        ]
        if let cut { message["tokenmeter"] = ["cut_by_budget": true, "completion_tokens": .int(cut)] }
        return message
    }

    private static func rendered(_ block: Block) -> JSONObject {
        var object = block.object
        switch block.type {
        case "text": object["text"] = .string(block.text)
        case "thinking":
            object["thinking"] = .string(block.text)
            object["signature"] = .string(block.signature)
        case "tool_use", "server_tool_use":
            object["input"] = block.json.isEmpty ? object["input"] ?? [:] : (try? JSONParser.parse(Array(block.json.utf8))) ?? [:]
        default: break
        }
        return object
    }

    /// The usage object of a `message_delta` or a message: the provider's counts when it reported them, else the
    /// local prompt and `completionTokens`.
    func usageObject(completionTokens: Int?) -> JSONValue {
        guard let usage else {
            return ["input_tokens": .int(promptTokens), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                    "output_tokens": .int(completionTokens ?? 0)]
        }
        return Self.usage(usage)
    }

    /// A chat usage in Anthropic's terms: `input_tokens` without the cached and cache-written tokens.
    static func usage(_ usage: ChatUsage) -> JSONValue {
        let read = usage.cachedTokens ?? 0, written = usage.cacheWriteTokens ?? 0
        return ["input_tokens": .int(max(0, usage.promptTokens - read - written)), "cache_creation_input_tokens": .int(written),
                "cache_read_input_tokens": .int(read), "output_tokens": .int(usage.completionTokens)]
    }

    /// Anthropic's stop reason for a chat finish reason.
    static func stopReason(_ reason: FinishReason) -> String {
        switch reason {
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        default: "end_turn"
        }
    }

    /// Anthropic's error type for a gateway error, by its HTTP status.
    static func errorType(_ error: GatewayError) -> String {
        switch error.status.code {
        case 400, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }

    private static func event(_ type: String, _ fields: JSONObject) -> Event {
        var object: JSONObject = ["type": .string(type)]
        for (key, value) in fields { object[key] = value }
        return Event(type: type, object: object)
    }
}
