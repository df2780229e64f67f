/// Detects text that contains a character PCRE2 10.42 would classify differently from tiktoken.
///
/// Those characters are the code points in `UnicodeAdditions` (assigned or re-classed after Unicode
/// 14.0) and U+180E (in PCRE2's `\s`, not in Unicode's White_Space). All lie in U+0800...U+3FFFF, so
/// ASCII and two-byte characters are skipped without decoding, and the rest is one bitmap lookup.
/// Text without them tokenizes identically under tiktoken's verbatim pattern, which PCRE2's JIT runs
/// 2-4 times faster than the pattern with explicit additions (docs/history/benchmarks-tokenizer-2026-11.md),
/// so `Encoding` uses the compatibility pattern only around the characters that need it (`PieceSplitter`).
enum ChangedScalars {
    static let limit: UInt32 = 0x40000

    /// One bit per code point below `limit`: set when the code point is classified differently.
    static let bitmap: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: Int(limit / 64))
        func set(_ v: UInt32) { bits[Int(v >> 6)] |= 1 << UInt64(v & 63) }
        set(0x180E)
        for ranges in UnicodeAdditions.byProperty.values {
            for r in ranges { for v in r { precondition(v < limit, "addition beyond the bitmap"); set(v) } }
        }
        return bits
    }()

    /// Whether valid UTF-8 `bytes` (possibly ending inside a character) contain a changed character.
    static func contains(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return false }
        return firstIndex(p, from: 0, count: bytes.count) < bytes.count
    }

    /// The byte offset of the first changed character in `p[from..<count]` (valid UTF-8, possibly
    /// ending inside a character), or `count` if there is none.
    static func firstIndex(_ p: UnsafePointer<UInt8>, from: Int, count n: Int) -> Int {
        var i = from
        return bitmap.withUnsafeBufferPointer { bits in
            while i < n {
                if i + 8 <= n {
                    let word = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 == 0 { i += 8; continue }
                }
                let c = p[i]
                if c < 0xE0 { i += 1; continue }
                let start = i
                let v: UInt32
                if c < 0xF0 {
                    guard i + 2 < n else { return n }
                    v = UInt32(c & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F)
                    i += 3
                } else {
                    guard i + 3 < n else { return n }
                    v = UInt32(c & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                        | UInt32(p[i + 3] & 0x3F)
                    i += 4
                }
                if v < limit && bits[Int(v >> 6)] & (1 << UInt64(v & 63)) != 0 { return start }
            }
            return n
        }
    }
}
