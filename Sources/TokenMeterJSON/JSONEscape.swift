/// The short escapes of JSON strings (RFC 8259 section 7), shared by every JSON reader: ``JSONParser`` and
/// the client's chunk scanner, which keeps its own scanner for speed but not its own escape table.
public enum JSONEscape {
    /// The byte that `\` followed by `letter` stands for (`"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`); nil for
    /// `u` (four hex digits follow) and for anything that is not an escape.
    @inlinable
    public static func byte(escapedBy letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""): 0x22
        case UInt8(ascii: "\\"): 0x5C
        case UInt8(ascii: "/"): 0x2F
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }
}
