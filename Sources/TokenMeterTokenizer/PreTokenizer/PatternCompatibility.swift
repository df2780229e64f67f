/// Rewrites a tiktoken pattern so that PCRE2's older Unicode tables classify characters as
/// tiktoken's regex engine does.
///
/// Each `\p{X}` is given the code points listed in `UnicodeAdditions` for X: inside a bracket class
/// they are appended to it (`[^\s\p{L}]` → `[^\s\p{L}\x{1D2C0}-\x{1D2D3}…]`), outside one the
/// property becomes a class (`\p{N}` → `[\p{N}\x{…}]`). The match semantics are otherwise
/// unchanged.
///
/// `\s` and `\S` become explicit classes of Unicode's White_Space property (`whiteSpace`), which is
/// what Rust's `\s` means: PCRE2's `\s` also matches U+180E MONGOLIAN VOWEL SEPARATOR, which has not
/// been white space since Unicode 6.3.
enum PatternCompatibility {
    /// Unicode White_Space (PropList.txt; unchanged since Unicode 6.3), as class contents.
    static let whiteSpace = #"\t\n\x{0B}\f\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"#

    static func augment(_ pattern: String, additions: [String: [ClosedRange<UInt32>]] = UnicodeAdditions.byProperty) -> String {
        var out = ""
        var inClass = false
        var chars = Array(pattern.unicodeScalars)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\\", let next = chars.first {
                chars = chars.dropFirst()
                if next == "s" || next == "S" {
                    let negate = next == "S"
                    switch (inClass, negate) {
                    case (true, false): out += whiteSpace
                    case (false, false): out += "[\(whiteSpace)]"
                    case (false, true): out += "[^\(whiteSpace)]"
                    case (true, true): preconditionFailure("\\S inside a class does not occur in tiktoken's patterns")
                    }
                } else if next == "p", chars.first == "{", let close = chars.firstIndex(of: "}") {
                    let name = String(String.UnicodeScalarView(chars[chars.index(after: chars.startIndex)..<close]))
                    chars = chars[chars.index(after: close)...]
                    let extra = (additions[name] ?? []).map { r in
                        r.lowerBound == r.upperBound ? hex(r.lowerBound) : "\(hex(r.lowerBound))-\(hex(r.upperBound))"
                    }.joined()
                    let property = "\\p{\(name)}"
                    out += extra.isEmpty ? property : (inClass ? property + extra : "[\(property)\(extra)]")
                } else {
                    out.unicodeScalars.append(c)
                    out.unicodeScalars.append(next)
                }
                continue
            }
            if c == "[" && !inClass { inClass = true } else if c == "]" && inClass { inClass = false }
            out.unicodeScalars.append(c)
        }
        return out
    }

    private static func hex(_ v: UInt32) -> String { "\\x{\(String(v, radix: 16, uppercase: true))}" }
}
