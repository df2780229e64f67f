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
    private var matcher: PieceMatcher
    /// Whether the stream has had a character that needs the compatibility pattern (then kept).
    private var compatible = false
    /// Bytes received; `buffer[start...]` is the text from the first unstable piece onwards (valid
    /// UTF-8, then maybe an incomplete character). Committed bytes before `start` are dropped in bulk.
    private var buffer: [UInt8] = []
    private var start = 0
    /// Tokens of all pieces already committed.
    private var committed = 0
    /// The pieces of the unstable tail as of the last append (buffer offsets) and their tokens; a
    /// piece committed later is usually one of them, and its count is reused.
    private var tailPieces: [(start: Int, end: Int, tokens: Int)] = []
    /// Reused storage for the next `tailPieces` (no allocation per delta).
    private var nextTailPieces: [(start: Int, end: Int, tokens: Int)] = []
    /// Tokens of the unstable tail as of the last append.
    private var tail = 0
    /// Total bytes accepted before `buffer[0]`, for error offsets.
    private var dropped = 0

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
        let validBefore = buffer.count - incompleteBytes
        buffer.append(contentsOf: delta)
        let validLength: Int
        if incompleteBytes == 0 && isASCII(delta) {
            validLength = buffer.count  // the usual delta: nothing to validate, nothing PCRE2 sees differently
        } else {
            let scan = buffer.withUnsafeBufferPointer { UTF8Validation.scan(UnsafeBufferPointer(rebasing: $0[validBefore...])) }
            guard validBefore + scan.validLength == buffer.count || scan.incompleteTail else {
                buffer.removeLast(delta.count)
                throw .invalidUTF8(offset: dropped + validBefore + scan.validLength)
            }
            validLength = validBefore + scan.validLength
            // The characters this delta completed start at `validBefore`, which includes the first
            // bytes of a character split across deltas (`delta` alone would miss such a character).
            let completed = buffer.withUnsafeBufferPointer {
                ChangedScalars.contains(UnsafeBufferPointer(rebasing: $0[validBefore..<validLength]))
            }
            if !compatible && completed {
                // A character PCRE2 classifies differently arrived: from now on this stream uses the
                // compatibility pattern. Text before it tokenizes the same under both patterns, so
                // nothing counted so far changes.
                compatible = true
                matcher = PieceMatcher(encoding.compatiblePreTokenizer)
            }
        }
        incompleteBytes = buffer.count - validLength
        recount(validLength: validLength, checkUpTo: validBefore)
        return count
    }

    /// Commits the pieces that start before `checkUpTo` (the text as it was before this delta) and
    /// can no longer change, then counts the rest as the text ends now. Pieces that start in the new
    /// delta are only checked on the next one: in the usual stream of one piece per delta that is
    /// one hard-partial match (committing the previous piece) and one normal match (counting the new
    /// one) per delta, instead of a third match to learn what is already known, that a piece
    /// touching the end of the text is not final yet.
    private mutating func recount(validLength: Int, checkUpTo: Int) {
        var offset = start
        var newCommitted = 0
        var pieces = nextTailPieces
        nextTailPieces = []
        pieces.removeAll(keepingCapacity: true)
        let previous = tailPieces
        var newTail = 0
        buffer.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var known = 0  // index into `previous`, which is in order
            commit: while offset < checkUpTo {
                // The usual case needs no regex call: a word or number piece followed by a character
                // that cannot extend it is final (see `StablePiece`).
                while known < previous.count && previous[known].start < offset { known += 1 }
                if known < previous.count, previous[known].start == offset, previous[known].end < validLength,
                   StablePiece.isFinal(base, from: offset, to: previous[known].end) {
                    newCommitted += previous[known].tokens
                    offset = previous[known].end
                    continue
                }
                switch matcher.next(in: base, count: validLength, from: offset, partial: true) {
                case let .piece(s, e):
                    while known < previous.count && previous[known].start < s { known += 1 }
                    if known < previous.count && previous[known].start == s && previous[known].end == e {
                        newCommitted += previous[known].tokens
                    } else {
                        newCommitted += encoding.pieceCount(base + s, e - s)
                    }
                    offset = e
                case .partial, .none:
                    break commit
                }
            }
            start = offset
            while offset < validLength, case let .piece(s, e) = matcher.next(in: base, count: validLength, from: offset) {
                let tokens = encoding.pieceCount(base + s, e - s)
                pieces.append((s, e, tokens))
                newTail += tokens
                offset = e
            }
        }
        committed += newCommitted
        tail = newTail
        nextTailPieces = tailPieces
        tailPieces = pieces
        compact()
    }

    /// Drops committed bytes once they are most of the buffer (amortized O(1) per byte).
    private mutating func compact() {
        guard start >= 4096 && start * 2 >= buffer.count else { return }
        buffer.removeFirst(start)
        dropped += start
        for i in tailPieces.indices { tailPieces[i].start -= start; tailPieces[i].end -= start }
        start = 0
    }

    private func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= bytes.count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < bytes.count { if p[i] >= 0x80 { return false }; i += 1 }
        return true
    }
}
