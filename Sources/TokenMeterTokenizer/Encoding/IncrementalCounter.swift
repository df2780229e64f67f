/// Counts the tokens of a text that arrives in pieces (a streamed completion), exactly.
///
/// After every `append`, `count` equals `encoding.count(all text so far)`, at a cost proportional
/// to the delta rather than to the whole text. Pieces found by the pre-tokenizer regex are final
/// once the regex engine reports a complete match that never looked at the end of the text (PCRE2
/// hard partial matching): such a piece cannot change whatever is appended, so its tokens are
/// committed and its bytes dropped. Only the unstable tail, usually the last piece, is re-counted
/// on the next delta. Deltas may split text anywhere, even inside a UTF-8 sequence: trailing bytes
/// of an incomplete character wait until the character is complete.
///
/// A counter belongs to one stream and one task at a time (it is not `Sendable`: its PCRE2 match
/// scratch space is per counter).
public struct IncrementalCounter {
    private let encoding: Encoding
    private let matcher: PieceMatcher
    /// Text from the first unstable piece onwards (valid UTF-8, then maybe an incomplete character).
    private var pending: [UInt8] = []
    /// Tokens of all pieces already committed.
    private var committed = 0
    /// Tokens of the unstable tail as of the last append.
    private var tail = 0
    /// Cache of the first tail piece's count: (length, tokens); such a piece is often committed next.
    private var firstTailPiece: (length: Int, tokens: Int)?
    /// Total bytes accepted, for error offsets.
    private var consumed = 0

    /// A counter for text in `encoding`.
    public init(encoding: Encoding) {
        self.encoding = encoding
        matcher = PieceMatcher(encoding.preTokenizer)
    }

    /// Tokens in all complete text appended so far (an incomplete trailing character is not counted).
    public var count: Int { committed + tail }

    /// Bytes of an incomplete UTF-8 character waiting for the rest of it.
    public private(set) var incompleteBytes = 0

    /// Appends a delta and returns the new total.
    @discardableResult
    public mutating func append(_ delta: String) -> Int {
        var delta = delta
        return delta.withUTF8 { bytes in
            // A String is valid UTF-8, so this can only fail if earlier bytes left an incomplete character.
            (try? append(utf8: bytes)) ?? count
        }
    }

    /// Appends raw bytes; throws `invalidUTF8` (offset into the whole stream) when they cannot be UTF-8.
    @discardableResult
    public mutating func append(utf8 delta: UnsafeBufferPointer<UInt8>) throws(TokenizerError) -> Int {
        let validBefore = pending.count - incompleteBytes
        let pendingStart = consumed - pending.count  // stream offset of pending[0]
        pending.append(contentsOf: delta)
        let scan = pending.withUnsafeBufferPointer { all in
            UTF8Validation.scan(UnsafeBufferPointer(rebasing: all[validBefore...]))
        }
        let validLength = validBefore + scan.validLength
        guard validLength == pending.count || scan.incompleteTail else {
            pending.removeLast(delta.count)
            throw .invalidUTF8(offset: pendingStart + validLength)
        }
        consumed += delta.count
        incompleteBytes = pending.count - validLength
        recount(validLength: validLength)
        return count
    }

    private mutating func recount(validLength: Int) {
        var stableEnd = 0
        var newCommitted = 0
        var tailCount = 0
        var firstTail: (length: Int, tokens: Int)?
        let cachedFirst = firstTailPiece
        pending.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var offset = 0
            // Commit the pieces that can no longer change.
            while case let .piece(start, end) = matcher.next(in: base, count: validLength, from: offset, partial: true) {
                if start == 0, let cachedFirst, cachedFirst.length == end {
                    newCommitted += cachedFirst.tokens
                } else {
                    newCommitted += encoding.pieceCount(base + start, end - start)
                }
                offset = end
            }
            stableEnd = offset
            // Count the rest as the text ends now.
            while case let .piece(start, end) = matcher.next(in: base, count: validLength, from: offset) {
                let tokens = encoding.pieceCount(base + start, end - start)
                if offset == stableEnd && start == stableEnd { firstTail = (end - stableEnd, tokens) }
                tailCount += tokens
                offset = end
            }
        }
        committed += newCommitted
        tail = tailCount
        if stableEnd > 0 { pending.removeFirst(stableEnd) }
        firstTailPiece = firstTail
    }
}
