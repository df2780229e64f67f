import Testing
import TokenMeterJSON

@Suite struct JSONWritingTests {
    @Test func escapesWhatJSONAndJavaScriptNeedAndNothingElse() throws {
        let text = "q\"b\\n\n r\r t\t b\u{8} f\u{C} nul\u{0} us\u{1F} del\u{7F} ls\u{2028} ps\u{2029} é/😀"
        #expect(JSONValue.quoted(text)
            == #""q\"b\\n\n r\r t\t b\b f\f nul\u0000 us\u001f del\u007f ls\u2028 ps\u2029 é/😀""#)
        // Every escaped string reads back as itself.
        #expect(try JSONParser.parse(JSONValue.quoted(text)) == .string(text))
    }

    @Test func aLineSeparatorAtTheEndOfAStringIsEscapedWhole() {
        #expect(JSONValue.quoted("a\u{2028}") == #""a\u2028""#)
        #expect(JSONValue.quoted("\u{2029}") == #""\u2029""#)
        // E2 80 followed by another byte is an ordinary character (U+2020 †).
        #expect(JSONValue.quoted("†") == "\"†\"")
    }

    @Test func numbersAreWrittenAsHeld() {
        let value: JSONValue = ["int": .int(Int64.max), "neg": -3, "double": .double(0.7), "big": .number("1e400"),
                                "nan": .double(.nan), "frac": 2.5]
        #expect(value.compactJSON == #"{"int":9223372036854775807,"neg":-3,"double":0.7,"big":1e400,"nan":null,"frac":2.5}"#)
    }

    @Test func prettyTextIndentsTwoSpacesAndKeepsOrder() {
        let value: JSONValue = ["z": [1, ["a": "b"]], "a": [], "o": [:]]
        #expect(value.prettyJSON() == """
            {
              "z": [
                1,
                {
                  "a": "b"
                }
              ],
              "a": [],
              "o": {}
            }
            """)
    }

    @Test func objectsCompareAsJSONDoesButKeepTheirOrder() throws {
        let a = try JSONParser.parse(#"{"x": 1, "y": [true]}"#)
        let b = try JSONParser.parse(#"{"y": [true], "x": 1}"#)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.compactJSON != b.compactJSON)
        #expect(try JSONParser.parse(#"{"x": 1}"#) != JSONParser.parse(#"{"x": 1.0}"#))
    }

    @Test func settingAMemberReplacesInPlaceAppendsOrRemoves() {
        var object: JSONObject = ["model": "m", "max_tokens": 5, "stream": true]
        object["max_tokens"] = 7
        object["user"] = "u"
        object["stream"] = nil
        #expect(JSONValue.object(object).compactJSON == #"{"model":"m","max_tokens":7,"user":"u"}"#)
        #expect(JSONObject([(key: "a", value: 1), (key: "b", value: 2), (key: "a", value: 3)]).keys == ["a", "b"])
    }

    @Test func wholeNumbersAreReadStrictly() {
        #expect(JSONValue.number("12").intValue == 12)
        #expect(JSONValue.number("12.0").intValue == nil)
        #expect(JSONValue.number("1e3").intValue == nil)
        #expect(JSONValue.number("99999999999999999999").intValue == nil)
        #expect(JSONValue.string("12").intValue == nil)
        #expect(JSONValue.number("0.25").doubleValue == 0.25)
    }
}
