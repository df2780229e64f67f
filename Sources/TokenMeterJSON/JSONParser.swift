/// A strict RFC 8259 JSON parser that reports the line and column of the first error.
///
/// The one parser for every JSON document TokenMeter reads: request bodies, catalog files, upstream
/// answers and errors (the streamed chunks' hot path has its own scanner, `OpenAIChunkScanner`).
/// Written for TokenMeter rather than using `JSONSerialization` because the CLI must say where a
/// request or catalog file is broken (exit 65 with line and column), because numbers must keep
/// their exact text (prices are decimal), and because it is faster than `JSONDecoder` on request bodies.
/// Nesting is limited to `maxDepth` levels so a hostile document cannot exhaust the stack; size is
/// limited to ``maxBytes`` (callers such as the server's body limit set tighter bounds of their own).
public struct JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    public static let maxDepth = 512
    /// Largest document accepted, in bytes (64 MiB): far above any request body, catalog or upstream
    /// answer, and a bound on the memory a document's tree can take for callers that read whole files.
    public static let maxBytes = 64 << 20

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    /// Whether the root object keeps the text of its members' values (see ``parse(_:keepingMemberText:)``).
    private let keepsMemberText: Bool

    private init(bytes: [UInt8], keepsMemberText: Bool) {
        self.bytes = bytes
        self.keepsMemberText = keepsMemberText
    }

    /// Parses one JSON document (surrounding whitespace allowed, nothing else after it).
    ///
    /// With `keepingMemberText`, a root object remembers the text each member's value was written with, and
    /// writing it copies that text for every member not set since (``JSONObject/parsedText(of:)``): a proxy
    /// forwards a long body without re-encoding what it did not change. The object then holds on to `bytes`.
    public static func parse(_ bytes: [UInt8], keepingMemberText: Bool = false) throws(JSONSyntaxError) -> JSONValue {
        guard bytes.count <= maxBytes else {
            throw JSONSyntaxError(line: 1, column: 1, reason: "the document is \(bytes.count) bytes, more than the \(maxBytes >> 20) MiB a JSON document may have")
        }
        var parser = JSONParser(bytes: bytes, keepsMemberText: keepingMemberText)
        // A UTF-8 byte order mark is tolerated, as editors on some systems write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses a document given as a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a document from any byte collection (e.g. Foundation's `Data`).
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(bytes))
    }

    // MARK: - Grammar

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        // Repeated names are found by a scan while the object is small (a message has two to four members; a set
        // would cost an allocation and a hash of every name), by a set once it has many.
        var seen: Set<String>?
        var text: [String: Range<Int>]? = keepsMemberText && depth == 1 ? [:] : nil
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { index += 1; depth -= 1; return .object(JSONObject(uniqueMembers: members)) }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw error("expected a member name in double quotes, found \(describeCurrent())") }
            let keyStart = index
            let key = try parseString()
            let repeated: Bool
            if members.count < 16 {
                repeated = members.contains { $0.key == key }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                repeated = !seen!.insert(key).inserted
            }
            guard !repeated else {
                index = keyStart
                throw error("duplicate member name \"\(key)\"")
            }
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw error("expected ':' after member name \"\(key)\", found \(describeCurrent())") }
            index += 1
            skipWhitespace()
            let valueStart = index
            members.append((key, try parseValue()))
            text?[key] = valueStart..<index
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { index += 1; continue }
            if peek(UInt8(ascii: "}")) { index += 1; break }
            throw error("expected ',' or '}' after an object member, found \(describeCurrent())")
        }
        depth -= 1
        return .object(JSONObject(uniqueMembers: members, text: text.map { MemberText(source: bytes, ranges: $0) }))
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { index += 1; depth -= 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { index += 1; continue }
            if peek(UInt8(ascii: "]")) { index += 1; break }
            throw error("expected ',' or ']' after an array element, found \(describeCurrent())")
        }
        depth -= 1
        return .array(items)
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
    }

    /// Whether any of the eight bytes of `word` is a quote, a backslash or a control byte (below 0x20).
    @inline(__always)
    static func mayEndPlainRun(_ word: UInt64) -> Bool {
        (ByteWord.controls(word) | ByteWord.matches(0x22, in: word) | ByteWord.matches(0x5C, in: word)) != 0
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        var runStart = index
        while true {
            // Eight plain bytes at a time (no quote, backslash or control byte among them): long texts are almost
            // all plain, and the byte loop below was a large part of a 500 KB request's CPU (profiled).
            if index + 8 <= bytes.count {
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index, as: UInt64.self) }
                if !Self.mayEndPlainRun(word) {
                    index += 8
                    continue
                }
            }
            guard index < bytes.count else { throw error("unterminated string") }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let run = runStart..<index
                index += 1
                if out.isEmpty {
                    // No escape in the string: one copy, straight from the document, instead of two.
                    let string = bytes.withUnsafeBufferPointer { String(validating: UnsafeBufferPointer(rebasing: $0[run]), as: UTF8.self) }
                    guard let string else { throw error("string is not valid UTF-8") }
                    return string
                }
                out.append(contentsOf: bytes[run])
                break
            }
            if b < 0x20 { throw error("control character U+\(hex4(UInt16(b))) must be escaped inside a string") }
            if b != UInt8(ascii: "\\") { index += 1; continue }
            out.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { throw error("unterminated escape sequence") }
            let e = bytes[index]
            index += 1
            if let byte = JSONEscape.byte(escapedBy: e) {
                out.append(byte)
            } else if e == UInt8(ascii: "u") {
                appendUTF8(of: try parseUnicodeEscape(), to: &out)
            } else {
                index -= 2
                throw error("invalid escape sequence '\\\(Character(Unicode.Scalar(e)))'")
            }
            runStart = index
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return s
    }

    /// Reads the 4 hex digits after `\u` (and a following low surrogate escape when needed).
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let high = try readHex4()
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("lone high surrogate \\u\(hex4(high)) is not followed by a low surrogate")
            }
            index += 2
            let low = try readHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("\\u\(hex4(high)) must be followed by a low surrogate, found \\u\(hex4(low))") }
            let value = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            return Unicode.Scalar(value)!
        }
        guard let scalar = Unicode.Scalar(UInt32(high)) else { throw error("lone low surrogate \\u\(hex4(high))") }
        return scalar
    }

    private mutating func readHex4() throws(JSONSyntaxError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error("\\u needs 4 hex digits") }
        var v: UInt16 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw error("\\u needs 4 hex digits, found \(describeCurrent())")
            }
            v = v << 4 | UInt16(d)
            index += 1
        }
        return v
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if peek(UInt8(ascii: "-")) { index += 1 }
        if peek(UInt8(ascii: "0")) {
            index += 1
        } else if digitsAhead() == 0 {
            throw error("expected a digit in number, found \(describeCurrent())")
        } else {
            index += digitsAhead()
        }
        if peek(UInt8(ascii: ".")) {
            index += 1
            guard digitsAhead() > 0 else { throw error("expected a digit after the decimal point, found \(describeCurrent())") }
            index += digitsAhead()
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            index += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
            guard digitsAhead() > 0 else { throw error("expected a digit in the exponent, found \(describeCurrent())") }
            index += digitsAhead()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: - Helpers

    private func digitsAhead() -> Int {
        var i = index
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        return i - index
    }

    private mutating func expectLiteral(_ word: String) throws(JSONSyntaxError) {
        let start = index
        for b in word.utf8 {
            guard index < bytes.count, bytes[index] == b else {
                index = start  // report the literal's first character, where the reader will look
                throw error("invalid literal, expected '\(word)'")
            }
            index += 1
        }
    }

    private func peek(_ b: UInt8) -> Bool { index < bytes.count && bytes[index] == b }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let b = bytes[index]
        if b >= 0x21, b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16, uppercase: true))"
    }

    private func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    private func appendUTF8(of scalar: Unicode.Scalar, to out: inout [UInt8]) {
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    /// The error at the current position, with line and column computed from the bytes before it.
    private func error(_ reason: String) -> JSONSyntaxError {
        var line = 1, column = 1
        for b in bytes[..<min(index, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return JSONSyntaxError(line: line, column: column, reason: reason)
    }
}
