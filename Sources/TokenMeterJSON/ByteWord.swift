/// Tests on eight bytes at once (a little-endian `UInt64` loaded from a buffer), for the writer's and the parser's
/// fast paths over plain text. Exact per word by the usual bit tricks: a byte is zero where
/// `(v - 0x01…) & ~v & 0x80…` has its top bit set, and below `n` (n ≤ 0x80) where `(v - n×0x01…) & ~v & 0x80…` has.
enum ByteWord {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let tops: UInt64 = 0x8080_8080_8080_8080

    /// Nonzero when some byte of `word` is below 0x20 (a control byte). Masks rather than booleans, so that a
    /// caller ORs several tests and branches once.
    @inline(__always)
    static func controls(_ word: UInt64) -> UInt64 { (word &- ones &* 0x20) & ~word & tops }

    /// Nonzero when some byte of `word` equals `byte`.
    @inline(__always)
    static func matches(_ byte: UInt8, in word: UInt64) -> UInt64 {
        let v = word ^ (ones &* UInt64(byte))
        return (v &- ones) & ~v & tops
    }
}
