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
    /// `EncodingName.splitsCaseRuns`, for `StablePiece.isWholeTail`.
    private let caseRuns: Bool
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
    /// The last piece of the text as of the last append (two bytes or more), with its token boundaries.
    private var growing = GrowingPiece()
    /// `LetterPiece.table` for cl100k (nil for o200k, whose letter pieces the shortcut does not cover).
    private let letterKinds: UnsafePointer<UInt64>?
    /// A letter piece that reached the end of the text on an earlier delta: from its start, the text
    /// up to `lettersTo` is known to be that piece, so the next delta scans only what follows.
    private var letterRun = (start: -1, lettersTo: 0)

    /// A counter for text in `encoding`.
    public init(encoding: Encoding) {
        self.encoding = encoding
        caseRuns = encoding.name.splitsCaseRuns
        matcher = PieceMatcher(encoding.preTokenizer)
        letterKinds = caseRuns ? nil : LetterPiece.table
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
        // Only the first bytes of a character arrived (a token of a script the vocabulary splits into
        // bytes): the complete text, and so its count, is unchanged.
        if validLength > validBefore { recount(validLength: validLength, checkUpTo: validBefore) }
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
        // Emptied one by one: a tail is a piece or two, and `removeAll(keepingCapacity:)` is a generic
        // range replacement that costs more than that.
        while !pieces.isEmpty { pieces.removeLast() }
        let previous = tailPieces
        var last: (start: Int, end: Int)?
        var firstTail: PieceMatch?
        var newTail = 0
        var run = letterRun
        let kinds = letterKinds
        buffer.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var known = 0  // index into `previous`, which is in order
            commit: while offset < checkUpTo {
                // The usual case needs no regex call: a word or number piece followed by a character
                // that cannot extend it is final (see `StablePiece`).
                while known < previous.count && previous[known].start < offset { known += 1 }
                if known < previous.count, previous[known].start == offset, previous[known].end < validLength,
                   StablePiece.isFinal(base, from: offset, to: previous[known].end, caseRuns: caseRuns) {
                    newCommitted += previous[known].tokens
                    offset = previous[known].end
                    continue
                }
                // The same for a word in any script (cl100k): final before a non-letter, or the rest of
                // the text (see `LetterPiece`).
                if let e = Self.letterPieceEnd(base, from: offset, to: validLength, kinds, &run) {
                    if e == validLength {
                        firstTail = .piece(start: offset, end: e)
                        break commit
                    }
                    newCommitted += Self.finalPieceTokens(base, offset, e, previous, &known, encoding)
                    offset = e
                    continue
                }
                // The rest of the text is one piece (usually a word being streamed in parts): not
                // final, since it reaches the end, and it is the tail's first piece.
                if StablePiece.isWholeTail(base, from: offset, to: validLength, caseRuns: caseRuns) {
                    firstTail = .piece(start: offset, end: validLength)
                    break commit
                }
                // A piece that ended the text and is followed by more non-ASCII text is most likely
                // growing (a run of CJK or Thai letters): match it normally first. If it still ends
                // the text it is not final (more text could extend it), and it is the tail's first
                // piece; one regex pass over it per delta instead of a partial and a normal one.
                if known < previous.count, previous[known].start == offset, previous[known].end == checkUpTo,
                   checkUpTo < validLength, base[checkUpTo] >= 0x80,
                   case let .piece(s, e) = matcher.next(in: base, count: validLength, from: offset), e == validLength {
                    firstTail = .piece(start: s, end: e)
                    break commit
                }
                switch matcher.next(in: base, count: validLength, from: offset, partial: true) {
                case let .piece(s, e):
                    newCommitted += Self.finalPieceTokens(base, s, e, previous, &known, encoding)
                    offset = e
                case .partial, .none:
                    break commit
                }
            }
            start = offset
            while offset < validLength, case let .piece(s, e) = firstTail.take() ?? (
                      StablePiece.isWholeTail(base, from: offset, to: validLength, caseRuns: caseRuns)
                          ? .piece(start: offset, end: validLength)
                          : Self.letterPieceEnd(base, from: offset, to: validLength, kinds, &run)
                              .map { .piece(start: offset, end: $0) }
                              ?? matcher.next(in: base, count: validLength, from: offset)) {
                if e == validLength && e - s >= GrowingPiece.minimumLength {
                    last = (s, e)  // counted below, with the boundaries kept from the last delta
                    break
                }
                let tokens = encoding.pieceCount(base + s, e - s)
                pieces.append((s, e, tokens))
                newTail += tokens
                offset = e
            }
        }
        if let last {
            let table = encoding.table
            let tokens = buffer.withUnsafeBufferPointer { growing.count($0.baseAddress!, last.start, last.end, table) }
            pieces.append((last.start, last.end, tokens))
            newTail += tokens
        }
        letterRun = run
        committed += newCommitted
        tail = newTail
        nextTailPieces = tailPieces
        tailPieces = pieces
        compact()
    }

    /// The tokens of the final piece `base[s..<e]`: its count from the last delta when it was a tail piece
    /// then (usually), else counted now. `known` walks `previous` (in order) and is advanced past earlier pieces.
    @inline(__always)
    private static func finalPieceTokens(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int,
                                         _ previous: [(start: Int, end: Int, tokens: Int)], _ known: inout Int,
                                         _ encoding: Encoding) -> Int {
        while known < previous.count && previous[known].start < s { known += 1 }
        if known < previous.count && previous[known].start == s && previous[known].end == e { return previous[known].tokens }
        return encoding.pieceCount(base + s, e - s)
    }

    /// `LetterPiece.end` at `from` (nil for o200k, `kinds` nil), resuming and remembering in `run` the
    /// scan of a letter piece that reaches the end of the text.
    @inline(__always)
    private static func letterPieceEnd(_ base: UnsafePointer<UInt8>, from: Int, to end: Int,
                                       _ kinds: UnsafePointer<UInt64>?, _ run: inout (start: Int, lettersTo: Int)) -> Int? {
        guard let kinds else { return nil }
        let e = LetterPiece.end(base, from: from, to: end, kinds: kinds, lettersFrom: run.start == from ? run.lettersTo : 0)
        if e == end { run = (from, end) }
        return e
    }

    /// Drops committed bytes once they are most of the buffer (amortized O(1) per byte).
    private mutating func compact() {
        guard start >= 4096 && start * 2 >= buffer.count else { return }
        buffer.removeFirst(start)
        dropped += start
        for i in tailPieces.indices { tailPieces[i].start -= start; tailPieces[i].end -= start }
        growing.start -= start
        growing.end -= start
        letterRun.start -= start
        letterRun.lettersTo -= start
        start = 0
    }

    /// The last piece of the text with the end offset of each of its tokens, relative to its start.
    private struct GrowingPiece {
        /// A one-byte piece is one token. Every longer last piece keeps its boundaries, so that a word of
        /// a few tokens streamed a token per delta costs a re-merge of its last token and the delta each
        /// time, not of the whole word.
        static let minimumLength = 2
        var start = -1
        var end = -1
        /// `ends[0..<tokens]`: the end of each token. Storage past `tokens` is scratch space, reused.
        var ends: [Int32] = []
        var tokens = 0

        /// The tokens of `base[s..<e]`, the piece that ends the text, reusing the token boundaries of the
        /// same piece as it was on an earlier delta.
        ///
        /// A run of letters without spaces (Chinese, Japanese, Thai) is one piece that grows by a
        /// character or two per delta; merging it whole every time would cost its length squared. Instead:
        /// let t_0..t_m be the tokens of the piece as it was. Re-merge only from the start of a token
        /// t_j near the end to the new end, giving u_0..u_k. If u_0 is t_j again, then t_0..t_{j-1} u_0..u_k
        /// is the piece's encoding: t_0..t_j is a valid encoding (a run of tokens of one), so is u_0..u_k,
        /// and two valid encodings sharing the token where they meet join into a valid one (no merge
        /// crosses the shared token in either, so none crosses it in the whole), which is unique. Otherwise
        /// the boundary moved further back: try a token further left, and at worst merge the whole piece.
        mutating func count(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ table: TokenTable) -> Int {
            if start == s && end <= e && tokens >= 2 {
                if end == e { return tokens }
                var j = tokens - 1
                while j > 0 {
                    let tokenStart = ends[j - 1]
                    // u_0..u_k go to the scratch space after the tokens, then over t_j.. if u_0 is t_j.
                    let written = BytePairMerge.writeTokenEnds(base + s + Int(tokenStart), e - s - Int(tokenStart), table,
                                                               adding: tokenStart, to: &ends, at: tokens)
                    if ends[tokens] == ends[j] {
                        let k = written - tokens
                        ends.withUnsafeMutableBufferPointer { b in
                            for i in 0..<k { b[j + i] = b[tokens + i] }  // forwards: j < tokens
                        }
                        tokens = j + k
                        end = e
                        return tokens
                    }
                    j -= min(j, 4)
                }
            }
            start = s
            end = e
            tokens = BytePairMerge.writeTokenEnds(base + s, e - s, table, adding: 0, to: &ends, at: 0)
            return tokens
        }
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
