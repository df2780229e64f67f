/// Splits text into pre-tokenization pieces exactly as tiktoken's regex does, choosing per region
/// between the verbatim pattern (fast) and the compatibility pattern (`PatternCompatibility`).
///
/// The two patterns differ only on `ChangedScalars`. Before such a character, the verbatim pattern
/// runs on the text cut just before it in PCRE2's hard partial mode: a complete piece there never
/// looked at the cut, so it is the piece either pattern finds in the whole text. From the first
/// piece that did reach the cut, the compatibility pattern takes over until a piece ends past the
/// character, then the verbatim pattern resumes. Text without such characters (nearly all text) is
/// one pass of the verbatim pattern.
struct PieceSplitter {
    private let encoding: Encoding
    private let fast: PieceMatcher
    private var compatible: PieceMatcher?
    /// Which pattern `AsciiPiece` follows.
    private let o200k: Bool

    init(_ encoding: Encoding) {
        self.encoding = encoding
        fast = PieceMatcher(encoding.preTokenizer)
        o200k = encoding.name.splitsCaseRuns
    }

    /// Calls `body(start, end)` for every piece of `base[0..<count]` (valid UTF-8), in order.
    ///
    /// A piece that starts with an ASCII character is first tried by hand (`AsciiPiece`). Its answers never
    /// depend on a character outside ASCII (it hands those pieces back), so they hold for both patterns and
    /// need no care around `ChangedScalars`.
    @inline(__always)
    mutating func forEachPiece(_ base: UnsafePointer<UInt8>, _ count: Int, _ body: (Int, Int) -> Void) {
        var offset = 0
        var changed = ChangedScalars.firstIndex(base, from: 0, count: count)
        while offset < count {
            if base[offset] < 0x80, let end = AsciiPiece.end(base, from: offset, count: count, o200k: o200k) {
                body(offset, end)
                offset = end
                continue
            }
            if changed == count {
                guard case let .piece(start, end) = fast.next(in: base, count: count, from: offset) else { return }
                body(start, end)
                offset = end
                continue
            }
            // Verbatim pattern up to the changed character, keeping only pieces that never saw the cut.
            if offset < changed, case let .piece(start, end) = fast.next(in: base, count: changed, from: offset, partial: true) {
                body(start, end)
                offset = end
                continue
            }
            // A piece reached the cut: the compatibility pattern until a piece covers the changed character.
            if compatible == nil { compatible = PieceMatcher(encoding.compatiblePreTokenizer) }
            repeat {
                guard case let .piece(start, end) = compatible!.next(in: base, count: count, from: offset) else { return }
                body(start, end)
                offset = end
            } while offset <= changed
            changed = ChangedScalars.firstIndex(base, from: offset, count: count)
        }
    }
}
