extension JSONValue {
    /// Compact JSON text (UTF-8 bytes, no spaces), members in order, numbers exactly as held.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        // A parsed body forwarded mostly as written is about its document's size: one allocation, not a doubling.
        if case .object(let object) = self { out.reserveCapacity(256 + object.parsedDocumentBytes) } else { out.reserveCapacity(256) }
        write(to: &out)
        return out
    }

    /// Compact JSON text as a `String`.
    public var compactJSON: String { String(decoding: encoded(), as: UTF8.self) }

    /// Appends the compact JSON text of this value to `out`. Written byte by byte rather than through
    /// `JSONEncoder`, which cost as much as the rest of a request's pre-flight (every upstream request
    /// body and every error body goes through here).
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let text = object.parsedText(of: member.key) {
                    out.append(contentsOf: text)
                } else {
                    member.value.write(to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The value as JSON indented by two spaces per level, members in order, `[]` and `{}` for empty
    /// containers, no final newline: the layout of `--json` output and JSON reports.
    public func prettyJSON() -> String {
        var out: [UInt8] = []
        writePretty(to: &out, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func writePretty(to out: inout [UInt8], indent: Int) {
        switch self {
        case .array(let items) where !items.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (i, item) in items.enumerated() {
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent + 2))
                item.writePretty(to: &out, indent: indent + 2)
                out.append(contentsOf: i + 1 < items.count ? ",\n".utf8 : "\n".utf8)
            }
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
            out.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            out.append(contentsOf: "{\n".utf8)
            for (i, member) in object.members.enumerated() {
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent + 2))
                Self.writeString(member.key, to: &out)
                out.append(contentsOf: ": ".utf8)
                member.value.writePretty(to: &out, indent: indent + 2)
                out.append(contentsOf: i + 1 < object.count ? ",\n".utf8 : "\n".utf8)
            }
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
            out.append(UInt8(ascii: "}"))
        default:
            write(to: &out)
        }
    }

    /// `string` as a JSON string literal, quotes included (for JSON written by hand around other text).
    public static func quoted(_ string: String) -> String {
        var out: [UInt8] = []
        writeString(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `string` as a JSON string literal: `"` and `\` escaped; control characters as `\n`, `\r`,
    /// `\t`, `\b`, `\f` or `\u00XX`; DEL as `\u007f`; U+2028 and U+2029 as `\u2028` and `\u2029`, so the
    /// text is also a valid JavaScript literal (JSON inside an HTML report's script); everything else,
    /// `/` and other non-ASCII included, as its UTF-8 bytes.
    /// Whether any of the eight bytes of `word` may need escaping: below 0x20, `"`, `\\`, DEL, or 0xE2 (the lead
    /// byte of U+2028 and U+2029, checked exactly by the caller).
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        (ByteWord.controls(word) | ByteWord.matches(0x22, in: word) | ByteWord.matches(0x5C, in: word)
            | ByteWord.matches(0x7F, in: word) | ByteWord.matches(0xE2, in: word)) != 0
    }

    public static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            let hex = Array("0123456789abcdef".utf8)
            var run = 0  // start of the bytes not yet copied
            var i = 0
            let raw = UnsafeRawBufferPointer(bytes)
            while i < bytes.count {
                // Eight bytes at a time while none of them can need escaping: long texts (a re-sent conversation
                // of 500 KB) are almost all plain, and the byte loop below made re-encoding them most of a
                // request's CPU (profiled).
                if i + 8 <= bytes.count, !Self.mayNeedEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                    i += 8
                    continue
                }
                let byte = bytes[i]
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
                let separator = byte == 0xE2 && i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F || separator else {
                    i += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0xE2: out.append(contentsOf: bytes[i + 2] == 0xA8 ? "u2028".utf8 : "u2029".utf8)
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                i += separator ? 3 : 1
                run = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
