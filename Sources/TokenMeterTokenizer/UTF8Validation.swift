/// Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
public enum UTF8Validation {
    /// The byte offset of the first byte that does not start a valid sequence, or nil if all of
    /// `bytes` is valid UTF-8. A sequence cut off by the end counts as invalid at its first byte.
    public static func firstInvalidOffset(in bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalidOffset(in: $0) }
    }

    /// As above, for a buffer.
    public static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let r = scan(bytes)
        return r.validLength == bytes.count ? nil : r.validLength
    }

    /// Scans `bytes`: the length of the longest valid prefix, and whether the rest is only the
    /// incomplete start of a valid sequence (so more bytes may complete it) rather than invalid.
    static func scan(_ b: UnsafeBufferPointer<UInt8>) -> (validLength: Int, incompleteTail: Bool) {
        let n = b.count
        var i = 0
        guard let base = b.baseAddress else { return (0, false) }
        let raw = UnsafeRawPointer(base)
        while i < n {
            // ASCII runs, the common case, eight bytes at a time.
            if i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return (i, false)
            }
            for k in 1...need {
                guard i + k < n else { return (i, true) }
                let x = b[i + k]
                let (l, h) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
                guard x >= l && x <= h else { return (i, false) }
            }
            i += need + 1
        }
        return (n, false)
    }
}
