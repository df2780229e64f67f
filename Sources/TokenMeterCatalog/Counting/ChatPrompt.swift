import TokenMeterJSON

/// The prompt side of a chat request, read from the request's JSON tree: the parts of an OpenAI Chat
/// Completions body that decide its prompt size and output allowance (`model`, `messages`, `tools` or
/// legacy `functions`, `max_completion_tokens` / `max_tokens`). The request itself, the tree that is
/// sent upstream, is the client library's `ChatRequest`; the gateway parses a body once and reads both
/// from the same tree. Other fields are kept only as far as counting needs to know they exist.
public struct ChatPrompt: Sendable {
    /// The request's `model`, if any.
    public var model: String?
    /// The messages, each an ordered list of its JSON members.
    public var messages: [PromptMessage]
    /// Function tool definitions (`tools[].function`, or the legacy `functions[]`).
    public var tools: [ToolDefinition]
    /// `max_completion_tokens`, else `max_tokens`: the most completion tokens the request allows.
    public var maxOutputTokens: Int?
    /// Request fields that add prompt tokens the heuristics do not count (e.g. `response_format`
    /// with a JSON schema), for the approximation notes.
    public var uncountedFields: [String]

    public init(model: String? = nil, messages: [PromptMessage], tools: [ToolDefinition] = [],
                maxOutputTokens: Int? = nil, uncountedFields: [String] = []) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.maxOutputTokens = maxOutputTokens
        self.uncountedFields = uncountedFields
    }

    /// Parses and checks a request body (the JSON a client would POST).
    public init(json bytes: [UInt8]) throws(RequestError) {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .malformedJSON(error) }
        try self.init(root)
    }

    /// Checks an already parsed request body.
    public init(_ root: JSONValue) throws(RequestError) {
        guard case .object = root else { throw .invalidField(path: "(body)", problem: "expected a JSON object, found \(root.typeName)") }
        switch root["model"] {
        case nil, .null?: model = nil
        case .string(let s)?: model = s
        case let v?: throw .invalidField(path: "model", problem: "expected a string, found \(v.typeName)")
        }
        guard let rawMessages = root["messages"] else { throw .missingField(path: "messages") }
        guard case .array(let items) = rawMessages else {
            throw .invalidField(path: "messages", problem: "expected an array of message objects, found \(rawMessages.typeName)")
        }
        guard !items.isEmpty else { throw .invalidField(path: "messages", problem: "must contain at least one message") }
        var parsed: [PromptMessage] = []
        for (i, item) in items.enumerated() { parsed.append(try PromptMessage(item, path: "messages[\(i)]")) }
        messages = parsed
        tools = try ToolDefinition.parseAll(from: root)
        maxOutputTokens = nil
        for key in ["max_tokens", "max_completion_tokens"] {  // the newer field wins when both are given
            guard let v = root[key], v != .null else { continue }
            guard let n = v.integerValue else { throw .invalidField(path: key, problem: "expected a whole number, found \(v.typeName)") }
            guard n >= 1 else { throw .invalidField(path: key, problem: "must be at least 1, found \(n)") }
            maxOutputTokens = n
        }
        var uncounted: [String] = []
        if case .object(let rf)? = root["response_format"], rf.contains(where: { $0.key == "json_schema" }) {
            uncounted.append("response_format.json_schema")
        }
        if let tc = root["tool_choice"], tc != .null, tc != .string("auto"), tc != .string("none") { uncounted.append("tool_choice") }
        uncountedFields = uncounted
    }

    /// The first content part the counter cannot size (a file, audio, ...: any type but text, refusal and
    /// image_url), as its JSON path and type; nil when every part can be counted.
    public var firstUncountablePart: (path: String, type: String)? {
        for (i, message) in messages.enumerated() {
            for (key, value) in message.members {
                guard case .parts(let parts) = value else { continue }
                for (j, part) in parts.enumerated() {
                    if case .other(let type) = part { return ("messages[\(i)].\(key)[\(j)]", type) }
                }
            }
        }
        return nil
    }
}
