/// The pieces of one long text that needed merging, remembered by their place in the text: a piece seen again
/// costs one hash (already computed for the whole-piece lookup) and one compare instead of its merges.
///
/// Text repeats words, and in scripts whose words are several tokens (most of them outside English) each
/// repeat would otherwise be merged again: on the multilingual corpus this is most of the time spent. The
/// cache is direct-mapped (a colliding piece replaces the older one), holds no copies (entries point into
/// the text, which outlives the call), and exists only for texts long enough to repay clearing it.
struct PieceCache: ~Copyable {
    /// Texts shorter than this are not cached: few repeats, and clearing the table would cost more.
    static let minimumText = 4096
    static let slots = 4096

    private struct Entry {
        var hash: UInt64
        var start: UInt32
        /// 0: empty (cached pieces have at least two bytes).
        var length: UInt32
        var tokens: UInt32
        /// Where the piece's ids start in the caller's output (encode only).
        var firstID: UInt32
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let text: UnsafePointer<UInt8>

    init(text: UnsafePointer<UInt8>) {
        self.text = text
        entries = .allocate(capacity: Self.slots)
        entries.initialize(repeating: Entry(hash: 0, start: 0, length: 0, tokens: 0, firstID: 0), count: Self.slots)
    }

    deinit { entries.deallocate() }

    /// The cached (token count, first id index) of the piece at `text[start..<start + length]` with `hash`.
    @inline(__always)
    func lookup(hash: UInt64, start: Int, length: Int) -> (tokens: Int, firstID: Int)? {
        let e = entries[Int(truncatingIfNeeded: hash) & (Self.slots - 1)]
        guard e.hash == hash, Int(e.length) == length,
              TokenTable.equal(text + Int(e.start), text + start, length) else { return nil }
        return (Int(e.tokens), Int(e.firstID))
    }

    @inline(__always)
    func store(hash: UInt64, start: Int, length: Int, tokens: Int, firstID: Int = 0) {
        entries[Int(truncatingIfNeeded: hash) & (Self.slots - 1)] =
            Entry(hash: hash, start: UInt32(truncatingIfNeeded: start), length: UInt32(truncatingIfNeeded: length),
                  tokens: UInt32(truncatingIfNeeded: tokens), firstID: UInt32(truncatingIfNeeded: firstID))
    }
}
