import TokenMeterJSON

/// The Anthropic Messages rendering of a scenario, as Anthropic streams it: `message_start` with the input
/// usage (uncached input, cache writes and reads apart), a `ping`, a text block (`content_block_start`, one
/// `text_delta` per chunk, `content_block_stop`), the function call as a `tool_use` block (one
/// `input_json_delta` per piece), then `message_delta` with the stop reason and the output usage, and
/// `message_stop`. No `[DONE]`.
extension ChunkWriter {
    private func anthropicEvent(_ type: String, _ json: String) -> String { "event: \(type)\ndata: \(json)\n\n" }

    private var anthropicStopReason: String {
        if scenario.finishReason == "length" { return "max_tokens" }
        return scenario.functionCall != nil ? "tool_use" : "end_turn"
    }

    private var anthropicInputUsage: String {
        let read = scenario.cachedTokens ?? 0, written = scenario.cacheWriteTokens
        let uncached = max(0, scenario.promptTokens - read - written)
        return #""input_tokens":\#(uncached),"cache_creation_input_tokens":\#(written),"cache_read_input_tokens":\#(read),"cache_creation":{"ephemeral_5m_input_tokens":\#(written - scenario.cacheWrite1hTokens),"ephemeral_1h_input_tokens":\#(scenario.cacheWrite1hTokens)}"#
    }

    /// `message_start`, a `ping`, and the start of the text block when the answer has text.
    func anthropicPreamble() -> String {
        let message = #"{"id":"msg_simulated","type":"message","role":"assistant","model":\#(quoted(model)),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{\#(anthropicInputUsage),"output_tokens":1}}"#
        var text = anthropicEvent("message_start", #"{"type":"message_start","message":\#(message)}"#)
        if !scenario.chunks.isEmpty {
            text += anthropicEvent("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
        }
        return text + anthropicEvent("ping", #"{"type": "ping"}"#)
    }

    /// The text delta of one chunk.
    func anthropicDelta(_ content: String) -> String {
        anthropicEvent("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(quoted(content))}}"#)
    }

    /// The end of the text block, the tool_use block, `message_delta` and `message_stop`.
    func anthropicTrailer() -> [String] {
        var text = ""
        if !scenario.chunks.isEmpty { text += anthropicEvent("content_block_stop", #"{"type":"content_block_stop","index":0}"#) }
        if let call = scenario.functionCall {
            let index = scenario.chunks.isEmpty ? 0 : 1
            text += anthropicEvent("content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":\#(quoted(call.callID)),"name":\#(quoted(call.name)),"input":{}}}"#)
            for piece in call.argumentChunks {
                text += anthropicEvent("content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":\#(quoted(piece))}}"#)
            }
            text += anthropicEvent("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#)
        }
        text += anthropicEvent("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"\#(anthropicStopReason)","stop_sequence":null},"usage":{"output_tokens":\#(scenario.outputTokens)}}"#)
        text += anthropicEvent("message_stop", #"{"type":"message_stop"}"#)
        return [text]
    }

    /// The whole message (`stream: false`).
    func anthropicMessage() -> String {
        var content: [String] = []
        if !scenario.chunks.isEmpty { content.append(#"{"type":"text","text":\#(quoted(scenario.text))}"#) }
        if let call = scenario.functionCall {
            content.append(#"{"type":"tool_use","id":\#(quoted(call.callID)),"name":\#(quoted(call.name)),"input":\#(call.arguments.isEmpty ? "{}" : call.arguments)}"#)
        }
        return #"{"id":"msg_simulated","type":"message","role":"assistant","model":\#(quoted(model)),"content":[\#(content.joined(separator: ","))],"stop_reason":"\#(anthropicStopReason)","stop_sequence":null,"usage":{\#(anthropicInputUsage),"output_tokens":\#(scenario.outputTokens)}}"#
    }
}
