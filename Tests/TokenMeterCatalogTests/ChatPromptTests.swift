import Testing
@testable import TokenMeterCatalog
import TokenMeterJSON

@Suite struct ChatRequestTests {
    func parse(_ json: String) throws(RequestError) -> ChatPrompt { try ChatPrompt(json: Array(json.utf8)) }

    @Test func readsModelMessagesToolsAndOutputLimit() throws {
        let r = try parse(#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50, "max_completion_tokens": 70}"#)
        #expect(r.model == "gpt-4o" && r.messages.count == 1 && r.maxOutputTokens == 70)
        #expect(try parse(#"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}"#).maxOutputTokens == 50)
        let f = try parse(#"{"messages": [{"role": "user", "content": "x"}], "functions": [{"name": "g", "parameters": {"type": "object", "properties": {"a": {"type": "object"}}}}]}"#)
        #expect(f.tools == [ToolDefinition(name: "g", properties: [.init(name: "a", type: "object")], hasNestedSchema: true)])
    }

    @Test func missingOrWrongTypedFieldsAreNamed() {
        #expect(throws: RequestError.missingField(path: "messages")) { try parse(#"{"model": "gpt-4o"}"#) }
        #expect(throws: RequestError.missingField(path: "messages[1].role")) {
            try parse(#"{"messages": [{"role": "user", "content": "a"}, {"content": "b"}]}"#)
        }
        #expect(throws: RequestError.invalidField(path: "messages[0].content", problem: "expected a string, an array of content parts or null, found number")) {
            try parse(#"{"messages": [{"role": "user", "content": 5}]}"#)
        }
        #expect(throws: RequestError.invalidField(path: "max_tokens", problem: "expected a whole number, found string")) {
            try parse(#"{"messages": [{"role": "user", "content": "a"}], "max_tokens": "5"}"#)
        }
        #expect(throws: RequestError.invalidField(path: "model", problem: "expected a string, found array")) {
            try parse(#"{"model": [], "messages": [{"role": "user", "content": "a"}]}"#)
        }
        #expect(throws: RequestError.missingField(path: "tools[0].function.name")) {
            try parse(#"{"messages": [{"role": "user", "content": "a"}], "tools": [{"type": "function", "function": {}}]}"#)
        }
        #expect(throws: RequestError.invalidField(path: "messages[0].content[0].image_url.detail", problem: "\"ultra\" is not one of low, high, auto")) {
            try parse(#"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x", "detail": "ultra"}}]}]}"#)
        }
    }

    @Test func malformedJSONCarriesLineAndColumn() {
        #expect(throws: RequestError.malformedJSON(JSONSyntaxError(line: 2, column: 3, reason: "expected a member name in double quotes, found '}'"))) {
            try parse("{\"messages\": [],\n  }")
        }
        let e = RequestError.malformedJSON(JSONSyntaxError(line: 2, column: 3, reason: "x"))
        #expect(e.description == "not valid JSON at line 2, column 3: x")
    }
}
