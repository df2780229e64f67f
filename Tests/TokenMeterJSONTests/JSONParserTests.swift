import Testing
import TokenMeterJSON

@Suite struct JSONParserTests {
    @Test func parsesValuesKeepingNumberTextAndMemberOrder() throws {
        let v = try JSONParser.parse(#"{"b": 2.50, "a": [true, null, "x\u00e9\ud83d\ude00\n"], "c": -1e3}"#)
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v["b"] == .number("2.50"))
        #expect(v["c"] == .number("-1e3"))
        #expect(v["a"] == .array([.bool(true), .null, .string("xé😀\n")]))
    }

    @Test func reportsLineAndColumnOfTheFirstError() {
        let text = "{\n  \"model\": \"gpt-4o\",\n  \"messages\": [\n    {\"role\": \"user\" \"content\": \"hi\"}\n  ]\n}"
        #expect(throws: JSONSyntaxError(line: 4, column: 21, reason: "expected ',' or '}' after an object member, found '\"'")) {
            try JSONParser.parse(text)
        }
        #expect(throws: JSONSyntaxError(line: 1, column: 10, reason: "unexpected end of input, expected a value")) {
            try JSONParser.parse(#"{"a": [1,"#)
        }
        // Columns count Unicode scalars, not bytes: "é" is one column.
        #expect(throws: JSONSyntaxError(line: 1, column: 7, reason: "unexpected 'x', expected a value")) {
            try JSONParser.parse(#"["é", x]"#)
        }
    }

    @Test func refusesWhatStrictJSONRefuses() {
        for bad in ["[1,]", "{\"a\":1,}", "01", "1.", "'x'", "[\"a\u{01}\"]", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "nul", "[1] 2", ""] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
    }

    @Test func limitsNestingDepth() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONSyntaxError(line: 1, column: 513, reason: "nesting deeper than 512 levels")) { try JSONParser.parse(deep) }
    }

    @Test func compactAndPrettyTextRoundTrip() throws {
        let v = try JSONParser.parse(#"{"k": ["a\"b", 1.50, {"x": null}], "e": {}, "f": []}"#)
        #expect(v.compactJSON == #"{"k":["a\"b",1.50,{"x":null}],"e":{},"f":[]}"#)
        #expect(try JSONParser.parse(v.prettyJSON()) == v)
    }

    @Test func limitsDocumentSize() throws {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: JSONParser.maxBytes) + Array("1".utf8)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(big) }
        #expect(try JSONParser.parse([UInt8](repeating: UInt8(ascii: " "), count: 1000) + Array("1".utf8)) == 1)
    }

    @Test("a repeated member name is refused in small objects and in objects of many members alike")
    func repeatedNamesInObjectsOfAnySize() {
        for size in [2, 15, 16, 17, 40] {
            let members = (0..<size).map { #""k\#($0)":\#($0)"# }
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{" + (members + [#""k\#(size - 1)":0"#]).joined(separator: ",") + "}") }
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{" + (members + [#""k0":0"#]).joined(separator: ",") + "}") }
            #expect((try? JSONParser.parse("{" + members.joined(separator: ",") + "}"))?.objectValue?.count == size)
        }
    }
}

