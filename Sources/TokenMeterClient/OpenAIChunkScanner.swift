import TokenMeterJSON

/// A fast path for decoding OpenAI `chat.completion.chunk` objects, the hot path of every stream.
///
/// `JSONDecoder` costs about as much per chunk as everything else the gateway does with it (profiled:
/// ~13% of the gateway's CPU at 500 streams). This scanner reads the same fields as
/// ``OpenAIWire/ChunkWire`` in one pass over the bytes and skips the rest. It is strict and gives up
/// (returns nil) on anything it does not handle exactly as `JSONDecoder` would: malformed JSON, a field of
/// an unexpected type, a duplicate or escaped key, a non-integer number where an integer is read, a
/// non-null `error`, invalid UTF-8, nesting deeper than 64. The caller then decodes with `JSONDecoder`, so
/// results and errors are the decoder's in every case the scanner declines.
struct OpenAIChunkScanner {
    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0
    /// Where the keys of the objects being read lie in `bytes`, innermost object last: a repeated key is found
    /// by comparing bytes with its siblings (an object has a handful of keys), with no set or hashing per object.
    private var keys: [Range<Int>] = []

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The chunk, or nil when the decoder must decide.
    static func chunk(_ bytes: [UInt8]) -> OpenAIWire.ChunkWire? {
        var scanner = OpenAIChunkScanner(bytes)
        guard let chunk = scanner.chunkObject() else { return nil }
        scanner.skipWhitespace()
        return scanner.i == bytes.count ? chunk : nil
    }

    // MARK: The chunk's shapes

    private mutating func chunkObject() -> OpenAIWire.ChunkWire? {
        var chunk = OpenAIWire.ChunkWire()
        let ok = object { scanner, key in
            switch key {
            case "id": return scanner.optionalString(into: &chunk.id)
            case "model": return scanner.optionalString(into: &chunk.model)
            case "created": return scanner.optionalInt64(into: &chunk.created)
            case "system_fingerprint": return scanner.optionalString(into: &chunk.system_fingerprint)
            case "service_tier": return scanner.optionalString(into: &chunk.service_tier)
            case "choices": return scanner.optionalArray(into: &chunk.choices) { $0.choice() }
            case "usage": return scanner.optionalObject(into: &chunk.usage) { $0.usage() }
            case "error": return scanner.null()  // a real error object goes to the decoder
            default: return scanner.skipValue()
            }
        }
        return ok ? chunk : nil
    }

    private mutating func choice() -> OpenAIWire.ChoiceWire? {
        var choice = OpenAIWire.ChoiceWire()
        let ok = object { scanner, key in
            switch key {
            case "index": return scanner.optionalInt(into: &choice.index)
            case "delta": return scanner.optionalObject(into: &choice.delta) { $0.message() }
            case "message": return scanner.optionalObject(into: &choice.message) { $0.message() }
            case "finish_reason": return scanner.optionalString(into: &choice.finish_reason)
            default: return scanner.skipValue()
            }
        }
        return ok ? choice : nil
    }

    private mutating func message() -> OpenAIWire.MessageWire? {
        var message = OpenAIWire.MessageWire()
        let ok = object { scanner, key in
            switch key {
            case "role": return scanner.optionalString(into: &message.role)
            case "content": return scanner.optionalString(into: &message.content)
            case "refusal": return scanner.optionalString(into: &message.refusal)
            case "reasoning_content": return scanner.optionalString(into: &message.reasoning_content)
            case "reasoning": return scanner.optionalString(into: &message.reasoning)
            case "tool_calls": return scanner.optionalArray(into: &message.tool_calls) { $0.toolCall() }
            default: return scanner.skipValue()
            }
        }
        return ok ? message : nil
    }

    private mutating func toolCall() -> OpenAIWire.ToolCallWire? {
        var call = OpenAIWire.ToolCallWire()
        let ok = object { scanner, key in
            switch key {
            case "index": return scanner.optionalInt(into: &call.index)
            case "id": return scanner.optionalString(into: &call.id)
            case "type": return scanner.optionalString(into: &call.type)
            case "function":
                return scanner.optionalObject(into: &call.function) { scanner in
                    var function = OpenAIWire.ToolCallWire.Function()
                    let ok = scanner.object { scanner, key in
                        switch key {
                        case "name": return scanner.optionalString(into: &function.name)
                        case "arguments": return scanner.optionalString(into: &function.arguments)
                        default: return scanner.skipValue()
                        }
                    }
                    return ok ? function : nil
                }
            default: return scanner.skipValue()
            }
        }
        return ok ? call : nil
    }

    private mutating func usage() -> OpenAIWire.UsageWire? {
        var usage = OpenAIWire.UsageWire()
        let ok = object { scanner, key in
            switch key {
            case "prompt_tokens": return scanner.optionalInt(into: &usage.prompt_tokens)
            case "completion_tokens": return scanner.optionalInt(into: &usage.completion_tokens)
            case "total_tokens": return scanner.optionalInt(into: &usage.total_tokens)
            case "prompt_tokens_details":
                return scanner.optionalObject(into: &usage.prompt_tokens_details) { scanner in
                    var details = OpenAIWire.UsageWire.PromptDetails()
                    let ok = scanner.object { scanner, key in
                        key == "cached_tokens" ? scanner.optionalInt(into: &details.cached_tokens) : scanner.skipValue()
                    }
                    return ok ? details : nil
                }
            case "completion_tokens_details":
                return scanner.optionalObject(into: &usage.completion_tokens_details) { scanner in
                    var details = OpenAIWire.UsageWire.CompletionDetails()
                    let ok = scanner.object { scanner, key in
                        key == "reasoning_tokens" ? scanner.optionalInt(into: &details.reasoning_tokens) : scanner.skipValue()
                    }
                    return ok ? details : nil
                }
            default: return scanner.skipValue()
            }
        }
        return ok ? usage : nil
    }

    // MARK: Typed values (null reads as nil, as `decodeIfPresent` does)

    private mutating func optionalString(into value: inout String?) -> Bool {
        if peekNull() { return null() }
        guard let s = string() else { return false }
        value = s
        return true
    }

    private mutating func optionalInt(into value: inout Int?) -> Bool {
        if peekNull() { return null() }
        guard let n = integer() else { return false }
        value = n
        return true
    }

    private mutating func optionalInt64(into value: inout Int64?) -> Bool {
        if peekNull() { return null() }
        guard let n = integer() else { return false }
        value = Int64(n)
        return true
    }

    private mutating func optionalObject<T>(into value: inout T?, _ read: (inout OpenAIChunkScanner) -> T?) -> Bool {
        if peekNull() { return null() }
        guard let v = read(&self) else { return false }
        value = v
        return true
    }

    private mutating func optionalArray<T>(into value: inout [T]?, _ element: (inout OpenAIChunkScanner) -> T?) -> Bool {
        if peekNull() { return null() }
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "["), enter() else { return false }
        i += 1
        var out: [T] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            value = out
            return true
        }
        while true {
            skipWhitespace()
            guard let e = element(&self) else { return false }
            out.append(e)
            skipWhitespace()
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "]") else { return false }
            i += 1
            depth -= 1
            value = out
            return true
        }
    }

    /// Reads an object, calling `field` with each key (each key at most once; no escapes in keys).
    private mutating func object(_ field: (inout OpenAIChunkScanner, String) -> Bool) -> Bool {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{"), enter() else { return false }
        i += 1
        let siblings = keys.count
        defer { keys.removeLast(keys.count - siblings) }
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return true
        }
        while true {
            skipWhitespace()
            let keyStart = i + 1
            guard let key = plainKey() else { return false }
            let range = keyStart..<(i - 1)
            for sibling in keys[siblings...] where bytes[sibling] == bytes[range] { return false }
            keys.append(range)
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipWhitespace()
            guard field(&self, key) else { return false }
            skipWhitespace()
            guard i < bytes.count else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { return false }
            i += 1
            depth -= 1
            return true
        }
    }

    // MARK: JSON lexing

    private mutating func enter() -> Bool {
        depth += 1
        return depth <= 64
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private func peekNull() -> Bool {
        var j = i
        while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09 { j += 1 }
        return j < bytes.count && bytes[j] == UInt8(ascii: "n")
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
        i += count
        return true
    }

    private mutating func null() -> Bool { literal("null") }

    /// A key without escapes, as a String.
    private mutating func plainKey() -> String? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1
        var j = start
        var ascii = true
        while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
            if bytes[j] == UInt8(ascii: "\\") || bytes[j] < 0x20 { return nil }
            ascii = ascii && bytes[j] < 0x80
            j += 1
        }
        guard j < bytes.count else { return nil }
        // Keys are ASCII in practice, and ASCII needs no validation.
        guard let key = ascii ? text(start..<j, validating: false) : text(start..<j, validating: true) else { return nil }
        i = j + 1
        return key
    }

    /// The bytes in `range` as a String; with `validating`, nil when they are not UTF-8 (without, they must be
    /// ASCII). Reads the array's storage directly: the generic slice initializers cost more than the scan.
    private func text(_ range: Range<Int>, validating: Bool) -> String? {
        bytes.withUnsafeBufferPointer { all in
            let slice = UnsafeBufferPointer(rebasing: all[range])
            return validating ? String(validating: slice, as: UTF8.self) : String(decoding: slice, as: UTF8.self)
        }
    }

    /// A JSON string, unescaped; nil when malformed (bad escape, lone surrogate, control character, bad UTF-8).
    private mutating func string() -> String? {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return text(start..<i, validating: true)
        }
        guard bytes[i] == UInt8(ascii: "\\") else { return nil }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(validating: out, as: UTF8.self)
            }
            if c < 0x20 { return nil }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            if let byte = JSONEscape.byte(escapedBy: e) {
                out.append(byte)
                continue
            }
            switch e {
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
                guard let s = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: String(Character(s)).utf8)
            default:
                return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// An integer literal (`-?(0|[1-9][0-9]*)`) that fits an Int and is not followed by a fraction or
    /// exponent; nil otherwise (the decoder decides those).
    private mutating func integer() -> Int? {
        skipWhitespace()
        var j = i
        var negative = false
        if j < bytes.count, bytes[j] == UInt8(ascii: "-") { negative = true; j += 1 }
        let digitsStart = j
        var value = 0
        while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[j] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = a
            j += 1
        }
        let digits = j - digitsStart
        guard digits > 0, !(digits > 1 && bytes[digitsStart] == UInt8(ascii: "0")) else { return nil }
        if j < bytes.count, bytes[j] == UInt8(ascii: ".") || bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E") { return nil }
        i = j
        return negative ? -value : value
    }

    /// Skips one JSON value of any type, checking its syntax.
    private mutating func skipValue() -> Bool {
        skipWhitespace()
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"):
            return object { scanner, _ in scanner.skipValue() }
        case UInt8(ascii: "["):
            var ignored: [Bool]? = nil
            return optionalArray(into: &ignored) { scanner in scanner.skipValue() ? true : nil }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    /// Skips a JSON number (`-?int frac? exp?`).
    private mutating func number() -> Bool {
        var j = i
        func digits() -> Int {
            let s = j
            while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") { j += 1 }
            return j - s
        }
        if j < bytes.count, bytes[j] == UInt8(ascii: "-") { j += 1 }
        let intStart = j
        let n = digits()
        guard n > 0, !(n > 1 && bytes[intStart] == UInt8(ascii: "0")) else { return false }
        if j < bytes.count, bytes[j] == UInt8(ascii: ".") {
            j += 1
            guard digits() > 0 else { return false }
        }
        if j < bytes.count, bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E") {
            j += 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            guard digits() > 0 else { return false }
        }
        i = j
        return true
    }
}
