/// Escaping for text placed in HTML (and the inline SVG in it), which the tests also parse as XML.
public enum HTMLText {
    /// `text` safe in element content and in double- or single-quoted attribute values: `& < > " '`
    /// become character references, and characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF)
    /// become U+FFFD, so a model name cannot open a tag, end an attribute or break the document.
    public static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            case "\t", "\n", "\r": out.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// `text` shortened to at most `limit` characters, with `…` standing for the rest.
    static func truncated(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
