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

/// The eight-bytes-at-a-time paths of the writer and the parser, against a byte-by-byte reference, on random texts
/// whose special bytes fall at every offset of a word.
@Suite struct WordAtATimeTests {
    /// The writer's escaping, one byte at a time (the rules of `JSONValue.writeString`).
    static func reference(_ string: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let bytes = Array(string.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                out += Array((bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                i += 3
                continue
            }
            switch b {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0x08: out += Array("\\b".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
            i += 1
        }
        return out + [UInt8(ascii: "\"")]
    }

    @Test("random texts with quotes, backslashes, controls, DEL, U+2028/9 and other E2 sequences at every offset: the writer matches the reference and the parser reads them back")
    func randomTexts() throws {
        let pieces = ["a", "bcdefgh", "\"", "\\", "\n", "\u{1}", "\u{7F}", "\u{2028}", "\u{2029}", "€", "—", "é", "日本", "🙂", " ", "x\ty"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<2_000 {
            let text = (0..<next(40)).map { _ in pieces[next(pieces.count)] }.joined()
            var written: [UInt8] = []
            JSONValue.writeString(text, to: &written)
            #expect(written == Self.reference(text), "\(text.debugDescription)")
            #expect(try JSONParser.parse(written) == .string(text))
        }
    }

    @Test("a root object parsed keeping member text writes unchanged members as the document had them, set ones anew")
    func memberTextIsKeptUntilSet() throws {
        let document = #"{ "messages" : [ {"content": "caf\u00e9 \/"} ],"n": 1.50, "nested": {"a" : 1}, "gone": true }"#
        guard case .object(var object) = try JSONParser.parse(Array(document.utf8), keepingMemberText: true) else {
            Issue.record("not an object")
            return
        }
        #expect(JSONValue.object(object).compactJSON == #"{"messages":[ {"content": "caf\u00e9 \/"} ],"n":1.50,"nested":{"a" : 1},"gone":true}"#)
        object["n"] = .int(2)
        object["gone"] = nil
        object["added"] = "x"
        #expect(JSONValue.object(object).compactJSON == #"{"messages":[ {"content": "caf\u00e9 \/"} ],"n":2,"nested":{"a" : 1},"added":"x"}"#)
        // Member text is only kept for the root, and never changes what the object is.
        let plain = try JSONParser.parse(document)
        #expect(plain.compactJSON == #"{"messages":[{"content":"café /"}],"n":1.50,"nested":{"a":1},"gone":true}"#)
        #expect(try JSONParser.parse(Array(document.utf8), keepingMemberText: true) == plain)
        // A member set back to its old value is written anew, as written values are: still the same JSON.
        object["messages"] = plain["messages"]
        #expect(try JSONParser.parse(JSONValue.object(object).encoded())["messages"] == plain["messages"])
    }
}

