import TokenMeterJSON

/// The OpenAI Responses rendering of a scenario, as OpenAI streams it: `response.created` and
/// `response.in_progress`; a message item (`response.output_item.added`, `response.content_part.added`, one
/// `response.output_text.delta` per chunk, then the `.done` events); the function call, if any (its item, one
/// `response.function_call_arguments.delta` per piece, the `.done` events); and `response.completed`, or
/// `response.incomplete` when the request's `max_output_tokens` cut the answer. Events carry consecutive
/// sequence numbers from 0.
extension ChunkWriter {
    private var responseID: String { "resp_simulated" }
    private var messageID: String { "msg_simulated" }
    private var hasMessage: Bool { !scenario.chunks.isEmpty }
    /// Sequence number of the first content delta.
    private var firstDeltaSequence: Int { 4 }

    private func event(_ type: String, _ fields: String, sequence: Int) -> String {
        "event: \(type)\ndata: {\"type\":\"\(type)\",\"sequence_number\":\(sequence),\(fields)}\n\n"
    }

    private var messageItem: (open: String, done: String) {
        let base = #"{"id":"\#(messageID)","type":"message","role":"assistant","status":"#
        return (base + #""in_progress","content":[]}"#,
                base + #""\#(scenario.finishReason == "length" ? "incomplete" : "completed")","content":[\#(textPart(scenario.text))]}"#)
    }

    private func textPart(_ text: String) -> String { #"{"type":"output_text","text":\#(quoted(text)),"annotations":[],"logprobs":[]}"# }

    private func functionItem(_ call: ScriptedFunctionCall, arguments: String, status: String) -> String {
        #"{"id":"fc_simulated","type":"function_call","status":"\#(status)","arguments":\#(quoted(arguments)),"call_id":\#(quoted(call.callID)),"name":\#(quoted(call.name))}"#
    }

    /// The whole response object; `final` adds the output and usage of the finished answer.
    func responseObject(final: Bool) -> String {
        let incomplete = final && scenario.finishReason == "length"
        let status = final ? (incomplete ? "incomplete" : "completed") : "in_progress"
        var output: [String] = []
        if final {
            if hasMessage { output.append(messageItem.done) }
            if let call = scenario.functionCall { output.append(functionItem(call, arguments: call.arguments, status: "completed")) }
        }
        let tier = scenario.servedTier.map(quoted) ?? #""default""#
        return #"{"id":"\#(responseID)","object":"response","created_at":1741476542,"status":"\#(status)","background":false,"error":null,"incomplete_details":\#(incomplete ? #"{"reason":"max_output_tokens"}"# : "null"),"instructions":null,"max_output_tokens":null,"model":\#(quoted(model)),"output":[\#(output.joined(separator: ","))],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"service_tier":\#(tier),"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":\#(final ? responsesUsage : "null"),"user":null,"metadata":{}}"#
    }

    private var responsesUsage: String {
        let output = scenario.outputTokens
        return #"{"input_tokens":\#(scenario.promptTokens),"input_tokens_details":{"cached_tokens":\#(scenario.cachedTokens ?? 0)},"output_tokens":\#(output),"output_tokens_details":{"reasoning_tokens":\#(scenario.reasoningTokens)},"total_tokens":\#(scenario.promptTokens + output)}"#
    }

    /// `response.created` and `response.in_progress`, and the message item and its text part when the answer has text.
    func responsesPreamble() -> String {
        let response = responseObject(final: false)
        var text = event("response.created", #""response":\#(response)"#, sequence: 0)
            + event("response.in_progress", #""response":\#(response)"#, sequence: 1)
        if hasMessage {
            text += event("response.output_item.added", #""output_index":0,"item":\#(messageItem.open)"#, sequence: 2)
            text += event("response.content_part.added",
                          #""item_id":"\#(messageID)","output_index":0,"content_index":0,"part":\#(textPart(""))"#, sequence: 3)
        }
        return text
    }

    /// The text delta of chunk `index`.
    func responsesDelta(_ content: String, index: Int) -> String {
        event("response.output_text.delta",
              #""item_id":"\#(messageID)","output_index":0,"content_index":0,"delta":\#(quoted(content)),"logprobs":[]"#,
              sequence: firstDeltaSequence + index)
    }

    /// The provider's mid-stream `error` event after the deltas written so far.
    func responsesError(_ message: String) -> String {
        "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\(quoted(message)),\"param\":null,\"sequence_number\":\(firstDeltaSequence + scenario.chunks.count)}\n\n"
    }

    /// The `.done` events of the message, the function call, and the terminal event.
    func responsesTrailer() -> [String] {
        var sequence = hasMessage ? firstDeltaSequence + scenario.chunks.count : 2
        func next() -> Int { defer { sequence += 1 }; return sequence }
        var text = ""
        if hasMessage {
            let prefix = #""item_id":"\#(messageID)","output_index":0,"content_index":0,"#
            text += event("response.output_text.done", prefix + #""text":\#(quoted(scenario.text)),"logprobs":[]"#, sequence: next())
            text += event("response.content_part.done", prefix + #""part":\#(textPart(scenario.text))"#, sequence: next())
            text += event("response.output_item.done", #""output_index":0,"item":\#(messageItem.done)"#, sequence: next())
        }
        if let call = scenario.functionCall {
            let index = hasMessage ? 1 : 0
            text += event("response.output_item.added",
                          #""output_index":\#(index),"item":\#(functionItem(call, arguments: "", status: "in_progress"))"#, sequence: next())
            for piece in call.argumentChunks {
                text += event("response.function_call_arguments.delta",
                              #""item_id":"fc_simulated","output_index":\#(index),"delta":\#(quoted(piece))"#, sequence: next())
            }
            text += event("response.function_call_arguments.done",
                          #""item_id":"fc_simulated","output_index":\#(index),"arguments":\#(quoted(call.arguments))"#, sequence: next())
            text += event("response.output_item.done",
                          #""output_index":\#(index),"item":\#(functionItem(call, arguments: call.arguments, status: "completed"))"#,
                          sequence: next())
        }
        let terminal = scenario.finishReason == "length" ? "response.incomplete" : "response.completed"
        text += event(terminal, #""response":\#(responseObject(final: true))"#, sequence: next())
        return [text]
    }

    /// A chat stream's tool-call deltas for `call`: the first names the function, each later one carries a piece
    /// of its arguments.
    func chatToolCallChunks(_ call: ScriptedFunctionCall) -> [String] {
        let open = openAIPrefix + #","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":\#(quoted(call.callID)),"type":"function","function":{"name":\#(quoted(call.name)),"arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#
        return (["data: \(open)\n\n"] + call.argumentChunks.map { piece in
            "data: " + openAIPrefix + #","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":\#(quoted(piece))}}]},"logprobs":null,"finish_reason":null}],"usage":null}"# + "\n\n"
        })
    }
}
