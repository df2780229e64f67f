/// Recognizes, without running the regex, the two commonest pieces that can no longer change: an
/// ASCII word and an ASCII number, each followed by a character that cannot extend it.
///
/// `IncrementalCounter` otherwise proves a piece final with a hard-partial regex match. For these
/// shapes the proof is short, for cl100k_base and o200k_base alike:
/// - word: an optional first character that is not a letter, digit, CR or LF (the patterns'
///   `[^\r\n\p{L}\p{N}]?`), then ASCII letters only, then a next character that is ASCII, not a letter
///   and not `'`. Every alternative that can match at the piece's start (letter runs with or without
///   case structure, cl100k's contractions) stops at that next character and never looks past it, and
///   o200k's optional contraction suffix needs a `'` there. So the match is the same piece whatever
///   follows.
/// - number: one to three ASCII digits, then a next character that is not a digit (or three digits:
///   `\p{N}{1,3}` is complete). Letter alternatives fail on a digit at once.
/// - punctuation: an optional space, then ASCII characters that are neither letters, digits nor white
///   space, then a space, a tab or a digit. The punctuation run stops there, the trailing `[\r\n]*`
///   (`[\r\n/]*` in o200k) takes none of them, and the letter alternatives need a letter.
/// - line break: ASCII white space ending in CR or LF, then an ASCII character that is not white space.
///   `\s++$` and `\s+(?!\S)` fail as before (the text no longer ends there), and `\s*[\r\n]` or
///   `\s*[\r\n]+` take the same run, which the next character cannot extend.
/// Anything else (punctuation, white space, non-ASCII) falls back to the regex. The incremental
/// counter's tests compare every step with a batch count, so a wrong rule here would show there.
enum StablePiece {
    /// Whether the piece `p[start..<end]` is final, given the byte at `end` (which must exist).
    @inline(__always)
    static func isFinal(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Bool {
        let next = p[end]
        guard next < 0x80 else { return false }
        var i = start
        let first = p[i]
        if isSpace(first) {
            while i < end && isSpace(p[i]) { i += 1 }
            if i == end {
                // White space alone: final only as a run ending in a line break, before a non-space.
                let last = p[end - 1]
                return (last == 0x0A || last == 0x0D) && !isSpace(next)
            }
            i = start  // a space or tab before a word or punctuation: the cases below
        }
        if isDigit(first) {
            while i < end && isDigit(p[i]) { i += 1 }
            let n = end - start
            return i == end && n <= 3 && (n == 3 || !isDigit(next))
        }
        if !isLetter(first) {
            guard first < 0x80, first != 0x0D, first != 0x0A else { return false }
            i += 1
        }
        if i < end && isLetter(p[i]) {
            while i < end && isLetter(p[i]) { i += 1 }
            return i == end && !isLetter(next) && next != UInt8(ascii: "'")
        }
        // Punctuation: p[start] (a space or a punctuation character) and what follows up to `end`.
        i = first == 0x20 ? start + 1 : start
        guard i < end else { return false }
        while i < end && isPunctuation(p[i]) { i += 1 }
        return i == end && (next == 0x20 || next == 0x09 || isDigit(next))
    }

    /// Whether `p[start..<end]`, the end of the text, is one whole piece, so that finding it needs no
    /// regex call (`IncrementalCounter` counts the last piece of the text on every delta):
    /// - ASCII letters after an optional first character that is ASCII and not a letter, digit, CR, LF
    ///   or `'` (a `'` could start one of cl100k's contractions). The patterns' first letter alternative
    ///   (after cl100k's contractions, which need the `'`) takes the optional character and then
    ///   letters up to the end of the text. With `caseRuns` (o200k's pattern) that holds only when the
    ///   letters are capitals followed by small letters: the pattern cuts "wOrld" before the "O".
    ///   Capitals alone are taken whole by o200k's second alternative.
    /// - One to three ASCII digits: `\p{N}{1,3}`, the letter alternatives needing a letter.
    @inline(__always)
    static func isWholeTail(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, caseRuns: Bool) -> Bool {
        var i = start
        let first = p[i]
        if isDigit(first) {
            while i < end && isDigit(p[i]) { i += 1 }
            return i == end && end - start <= 3
        }
        if !isLetter(first) {
            guard first < 0x80, first != 0x0D, first != 0x0A, first != UInt8(ascii: "'") else { return false }
            i += 1
            guard i < end else { return false }
        }
        if caseRuns {
            while i < end && p[i] >= 0x41 && p[i] <= 0x5A { i += 1 }
            while i < end && p[i] >= 0x61 && p[i] <= 0x7A { i += 1 }
            return i == end
        }
        while i < end && isLetter(p[i]) { i += 1 }
        return i == end
    }

    /// ASCII white space as the patterns' `\s` sees it (tab, LF, VT, FF, CR, space).
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
    /// ASCII characters that are neither letters, digits nor white space.
    @inline(__always) static func isPunctuation(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && !isLetter(b) && !isDigit(b)
    }

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
