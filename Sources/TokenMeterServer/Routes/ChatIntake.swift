import Foundation
import TokenMeterCatalog
import TokenMeterClient

/// A chat request body that passed validation: the catalog's view (for counting) and the client library's
/// view (the JSON object passed upstream with unknown fields kept).
struct ChatIntake: Sendable {
    /// The model as the client named it.
    let model: String
    /// The messages and tools, for the chat-rule prompt count.
    let counted: TokenMeterCatalog.ChatRequest
    /// The body to send upstream.
    let body: TokenMeterClient.ChatRequest
    /// `stream: true`.
    let streaming: Bool
    /// `stream_options.include_usage: true`.
    let includeUsage: Bool

    /// Validates a raw body. Refuses invalid UTF-8, malformed JSON, wrong types, missing or empty `messages`,
    /// a missing `model`, `n` other than 1, and `max_tokens` / `max_completion_tokens` that are not whole
    /// numbers from 1 to `maxTokensCeiling`, each with OpenAI's 400 body naming the field.
    init(bytes: [UInt8], maxTokensCeiling: Int) throws(GatewayError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .badRequest("The request body is not valid UTF-8.")
        }
        let root: TokenMeterCatalog.JSONValue
        do { root = try JSONParser.parse(bytes) } catch {
            throw .badRequest("We could not parse the JSON body of your request: \(error). "
                + "(HINT: This likely means you aren't using your HTTP library correctly.)")
        }
        do { counted = try TokenMeterCatalog.ChatRequest(root) } catch {
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
        if let n = root["n"], n != .null, n.integerValue != 1 {
            throw .badRequest("Invalid 'n': TokenMeter meters one choice per request; send n = 1 or leave it out.", param: "n")
        }
        // The body sent upstream is the same parse, converted (a second parse of the bytes cost as much as this
        // whole validation).
        let converted: TokenMeterClient.JSONValue
        do { converted = try TokenMeterClient.JSONValue(root) } catch {
            throw .badRequest("The number \(error.lexeme) in the request body is out of range.")
        }
        guard case .object(let members) = converted else {
            throw .badRequest("The request body must be a JSON object.")
        }
        body = TokenMeterClient.ChatRequest(body: members)
    }
}

/// A JSON number too large for a `Double` (`1e400`): it has no value to send upstream.
struct NumberOutOfRange: Error {
    let lexeme: String
}

extension TokenMeterClient.JSONValue {
    /// The client library's value for a parsed document: numbers written as integers that fit in `Int64` become
    /// `.int`, other numbers `.double`, as the client's own decoder reads them. A number beyond `Double`'s range
    /// is refused, as that decoder refuses it, rather than becoming an infinity that would be written as `null`.
    init(_ value: TokenMeterCatalog.JSONValue) throws(NumberOutOfRange) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let lexeme):
            if !lexeme.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
               let integer = Int64(lexeme) {
                self = .int(integer)
            } else if let double = Double(lexeme), double.isFinite {
                self = .double(double)
            } else {
                throw NumberOutOfRange(lexeme: lexeme)
            }
        case .string(let s): self = .string(s)
        case .array(let items):
            var converted: [Self] = []
            converted.reserveCapacity(items.count)
            for item in items { converted.append(try Self(item)) }
            self = .array(converted)
        case .object(let members):
            var converted: [String: Self] = [:]
            converted.reserveCapacity(members.count)
            for member in members { converted[member.key] = try Self(member.value) }
            self = .object(converted)
        }
    }
}
