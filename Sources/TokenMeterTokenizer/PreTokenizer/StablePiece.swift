/// Recognizes, without running the regex, the commonest ASCII pieces: those that can no longer change
/// (`isFinal`), and a piece that is the whole rest of the text (`isWholeTail`).
///
/// `IncrementalCounter` otherwise proves a piece final with a hard-partial regex match, and finds the
/// pieces of the unstable tail with normal matches. For these shapes the proof is short, for cl100k_base
/// and o200k_base alike unless said otherwise. A piece is final when:
/// - word: an optional first character that is not a letter, digit, CR or LF (the patterns'
///   `[^\r\n\p{L}\p{N}]?`), then ASCII letters only, then a next character that is ASCII, not a letter
///   and not `'`. Every alternative that can match at the piece's start (letter runs with or without
///   case structure, cl100k's contractions) stops at that next character and never looks past it, and
///   o200k's optional contraction suffix needs a `'` there. So the match is the same piece whatever
///   follows. In o200k also when the letters are capitals then small letters and the next character
///   is a capital: the first letter alternative (`[\p{Lu}..]*[\p{Ll}..]+`) stops there.
/// - number: one to three ASCII digits, then a next character that is not a digit (or three digits:
///   `\p{N}{1,3}` is complete). Letter alternatives fail on a digit at once.
/// - punctuation: an optional space, then ASCII characters that are neither letters, digits nor white
///   space, then
///   - a space, a tab or a digit: the punctuation run stops there, the trailing `[\r\n]*` (`[\r\n/]*`
///     in o200k) takes none of them, and the letter alternatives need a letter;
///   - a letter, when the piece has two characters or more: the letter alternatives' optional first
///     character is one character, followed by a letter, so they fail at the piece's start;
///   - or a run of CR and LF, then anything but CR, LF or `/`: the trailing run stops there.
/// - line break: ASCII white space ending in CR or LF, then an ASCII character that is not white space.
///   `\s++$` and `\s+(?!\S)` fail as before (the text no longer ends there), and `\s*[\r\n]` or
///   `\s*[\r\n]+` take the same run, which the next character cannot extend.
/// - one space or tab, then a digit: the letter, number and punctuation alternatives fail on the space
///   and the digit, `\s+(?!\S)` fails before a digit, and the last alternative takes the one character.
/// Anything else falls back to the regex, except cl100k's words in other scripts, which `LetterPiece`
/// recognizes. Tests compare the incremental counter with batch counts at every split of texts built
/// from these shapes, so a wrong rule shows there.
enum StablePiece {
    /// Whether the piece `p[start..<end]` is final, given the byte at `end` (which must exist).
    /// `caseRuns`: `EncodingName.splitsCaseRuns` (o200k's pattern).
    @inline(__always)
    static func isFinal(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, caseRuns: Bool) -> Bool {
        let next = p[end]
        guard next < 0x80 else { return false }
        var i = start
        let first = p[i]
        if isSpace(first) {
            while i < end && isSpace(p[i]) { i += 1 }
            if i == end {
                // White space alone: final as a run ending in a line break, before a non-space; or as
                // one space or tab before a digit.
                let last = p[end - 1]
                if last == 0x0A || last == 0x0D { return !isSpace(next) }
                return end - start == 1 && isDigit(next)
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
            let letters = i
            while i < end && isLetter(p[i]) { i += 1 }
            guard i == end else { return false }
            if !isLetter(next) { return next != UInt8(ascii: "'") }
            guard caseRuns && isUpper(next) && isLower(p[end - 1]) else { return false }
            return caseRunEnd(p, from: letters, to: end) == end
        }
        // Punctuation: p[start] (a space or a punctuation character) and what follows up to `end`.
        guard let afterPunctuation = punctuationEnd(p, from: start, to: end) else { return false }
        if afterPunctuation == end {
            return next == 0x20 || next == 0x09 || isDigit(next) || (isLetter(next) && end - start >= 2)
        }
        return lineBreaksEnd(p, from: afterPunctuation, to: end) == end
            && next != 0x0A && next != 0x0D && next != UInt8(ascii: "/")
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
    /// - ASCII white space: cl100k's `\s++$` takes it all. In o200k, `\s*[\r\n]+` comes first and takes
    ///   the run up to its last CR or LF, so the run is whole when it has none (then `\s+(?!\S)` takes
    ///   it) or ends with one.
    /// - An optional space, ASCII punctuation (no letters, digits or white space), then only CR and LF:
    ///   ` ?[^\s\p{L}\p{N}]+[\r\n]*`; the letter alternatives need a letter, there is none.
    @inline(__always)
    static func isWholeTail(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, caseRuns: Bool) -> Bool {
        var i = start
        let first = p[i]
        if isDigit(first) {
            while i < end && isDigit(p[i]) { i += 1 }
            return i == end && end - start <= 3
        }
        if isSpace(first) {
            while i < end && isSpace(p[i]) { i += 1 }
            if i == end {
                guard caseRuns else { return true }
                let last = p[end - 1]
                if last == 0x0A || last == 0x0D { return true }
                var j = start
                while j < end && p[j] != 0x0A && p[j] != 0x0D { j += 1 }
                return j == end
            }
            i = start
        }
        if !isLetter(first) {
            guard first < 0x80, first != 0x0D, first != 0x0A, first != UInt8(ascii: "'") else { return false }
            i += 1
            guard i < end else { return isPunctuation(first) }  // one punctuation character
        }
        if isLetter(p[i]) {
            if caseRuns { return caseRunEnd(p, from: i, to: end) == end }
            while i < end && isLetter(p[i]) { i += 1 }
            return i == end
        }
        // Punctuation, after an optional space, then only line breaks.
        guard let afterPunctuation = punctuationEnd(p, from: start, to: end) else { return false }
        return afterPunctuation == end || lineBreaksEnd(p, from: afterPunctuation, to: end) == end
    }

    /// Where a run of ASCII capitals followed by a run of small letters from `i` ends (o200k's first
    /// letter alternative on ASCII).
    @inline(__always)
    private static func caseRunEnd(_ p: UnsafePointer<UInt8>, from i: Int, to end: Int) -> Int {
        var i = i
        while i < end && isUpper(p[i]) { i += 1 }
        while i < end && isLower(p[i]) { i += 1 }
        return i
    }

    /// Where ` ?[^\s\p{L}\p{N}]+` from `start` ends on ASCII, or nil when it matches nothing.
    @inline(__always)
    private static func punctuationEnd(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var i = p[start] == 0x20 ? start + 1 : start
        let punctuation = i
        while i < end && isPunctuation(p[i]) { i += 1 }
        return i > punctuation ? i : nil
    }

    /// Where a run of CR and LF from `i` ends, or nil when there is none.
    @inline(__always)
    private static func lineBreaksEnd(_ p: UnsafePointer<UInt8>, from i: Int, to end: Int) -> Int? {
        var j = i
        while j < end && (p[j] == 0x0A || p[j] == 0x0D) { j += 1 }
        return j > i ? j : nil
    }

    /// ASCII white space as the patterns' `\s` sees it (tab, LF, VT, FF, CR, space).
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
    /// ASCII characters that are neither letters, digits nor white space.
    @inline(__always) static func isPunctuation(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && !isLetter(b) && !isDigit(b)
    }

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
