/// The piece at a position of ASCII text, found by following tiktoken's patterns by hand instead of running the
/// regex: on source code and English prose PCRE2's JIT alone (90-120 MB/s) costs more than all the rest of
/// counting, and these few byte tests decide the same pieces several times faster.
///
/// The patterns (`EncodingName.pattern`) try their alternatives in order and the first that matches is the
/// piece. Over ASCII their classes are simple: `\p{L}` is A-Z and a-z (capitals are `\p{Lu}`, small letters
/// `\p{Ll}`; no ASCII character is `\p{Lt}`, `\p{Lm}`, `\p{Lo}` or `\p{M}`), `\p{N}` is 0-9, `\s` is tab to
/// carriage return and space, and everything else is "other". `end` walks the same alternatives over those
/// classes. Whenever the answer could depend on a character outside ASCII (a letter run that reaches `é` or a
/// combining mark, a space run that reaches a no-break space, a digit run that reaches `٣`, a contraction whose
/// letter could be `ſ`, which case-folds to `s`), it returns nil and the caller runs the regex for that piece.
/// So text with other scripts keeps its exact pieces, and ASCII text never reaches PCRE2.
/// `PreTokenizerTests.asciiPiecesEqualTheRegex` compares both on random text of every class, both patterns.
enum AsciiPiece {
    private static let upper: UInt8 = 1, lower: UInt8 = 2, digit: UInt8 = 3, space: UInt8 = 4, other: UInt8 = 5
    /// Class of each byte below 0x80; 0 for the others (unknown here).
    private static let classes: [UInt8] = (0..<256).map { b in
        switch b {
        case 0x41...0x5A: upper
        case 0x61...0x7A: lower
        case 0x30...0x39: digit
        case 0x09...0x0D, 0x20: space
        case 0x00..<0x80: other
        default: 0
        }
    }

    /// The end of the piece that starts at `start` in `p[0..<count]` (`p[start]` is ASCII), or nil when it
    /// depends on a character outside ASCII. `o200k`: o200k's pattern (else cl100k's).
    @inline(__always)
    static func end(_ p: UnsafePointer<UInt8>, from start: Int, count n: Int, o200k: Bool) -> Int? {
        classes.withUnsafeBufferPointer { k in
            o200k ? o200kEnd(p, start, n, k.baseAddress!) : cl100kEnd(p, start, n, k.baseAddress!)
        }
    }

    @inline(__always) private static func isLetter(_ c: UInt8) -> Bool { c == upper || c == lower }
    @inline(__always) private static func isLineBreak(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }
    @inline(__always) private static func lowercased(_ b: UInt8) -> UInt8 { b | 0x20 }

    /// cl100k_base: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|`
    /// `\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    private static func cl100kEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>) -> Int? {
        let c = p[start]
        if c == UInt8(ascii: "'"), start + 1 < n {
            if let e = contraction(p, start, n) { return e }
            if p[start + 1] >= 0x80 { return nil }  // `ſ` folds to `s`
        }
        // [^\r\n\p{L}\p{N}]?+\p{L}++ : an optional non-letter, non-digit, non-line-break first character, then
        // every letter (possessive: a first character taken is never given back).
        let kc = k[Int(c)]
        guard var j = lettersStart(p, start, n, k) else { return nil }
        if isLetter(k[Int(p[j])]) {
            while j < n && isLetter(k[Int(p[j])]) { j += 1 }
            return j < n && p[j] >= 0x80 ? nil : j
        }
        switch numberOrPunctuation(p, start, n, k, slash: false) {
        case .end(let e): return e
        case .unknown: return nil
        case .noMatch: break
        }
        guard kc == space else { return nil }
        // White space: \s++$ | \s*[\r\n] | \s+(?!\S) | \s
        let (e, lastBreak) = spaceRun(p, start, n, k)
        if e == n { return n }
        if p[e] >= 0x80 { return nil }  // could be white space (U+0085, U+00A0...)
        if lastBreak >= 0 { return lastBreak + 1 }
        return e - 1 > start ? e - 1 : start + 1
    }

    /// o200k_base: `[^\r\n\p{L}\p{N}]?[\p{Lu}…]*[\p{Ll}…]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|`
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}…]+[\p{Ll}…]*(?i:…)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    private static func o200kEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>) -> Int? {
        let c = p[start]
        let kc = k[Int(c)]
        guard let j = lettersStart(p, start, n, k) else { return nil }
        if isLetter(k[Int(p[j])]) {
            // Capitals then small letters (the first alternative); with no small letter after the capitals,
            // the second alternative takes the capitals alone. Either may end in a contraction.
            var u = j
            while u < n && k[Int(p[u])] == upper { u += 1 }
            if u < n && p[u] >= 0x80 { return nil }
            var l = u
            while l < n && k[Int(p[l])] == lower { l += 1 }
            if l < n && p[l] >= 0x80 { return nil }
            let end = l > u ? l : u
            guard end < n, p[end] == UInt8(ascii: "'") else { return end }
            if end + 1 < n && p[end + 1] >= 0x80 { return nil }
            return contraction(p, end, n) ?? end
        }
        switch numberOrPunctuation(p, start, n, k, slash: true) {
        case .end(let e): return e
        case .unknown: return nil
        case .noMatch: break
        }
        guard kc == space else { return nil }
        // White space: \s*[\r\n]+ | \s+(?!\S) | \s+
        let (e, lastBreak) = spaceRun(p, start, n, k)
        if e < n && p[e] >= 0x80 { return nil }
        if lastBreak >= 0 { return lastBreak + 1 }
        if e == n { return n }
        return e - 1 > start ? e - 1 : e
    }

    /// Where a letter piece's letters would start: after the optional first character `[^\r\n\p{L}\p{N}]` when
    /// a letter follows it, else at `start` (a letter there or not); nil when the character after it is outside
    /// ASCII and could be a letter.
    @inline(__always)
    private static func lettersStart(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>) -> Int? {
        let c = p[start], kc = k[Int(c)]
        guard kc == other || (kc == space && !isLineBreak(c)), start + 1 < n else { return start }
        let next = p[start + 1]
        if next >= 0x80 { return nil }
        return isLetter(k[Int(next)]) ? start + 1 : start
    }

    /// The ASCII white-space run at `start`: where it ends, and its last line break (-1: none).
    @inline(__always)
    private static func spaceRun(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>) -> (end: Int, lastBreak: Int) {
        var e = start
        var lastBreak = -1
        while e < n && k[Int(p[e])] == space {
            if isLineBreak(p[e]) { lastBreak = e }
            e += 1
        }
        return (e, lastBreak)
    }

    /// A contraction at `at` (`p[at]` is `'`): cl100k's `'(?i:[sdmt]|ll|ve|re)`, or o200k's suffix
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)`, the same letters. Its end, or nil for none (the caller has ruled out a
    /// first letter outside ASCII; none folds to `l`, `v`, `r` or `e`).
    @inline(__always)
    private static func contraction(_ p: UnsafePointer<UInt8>, _ at: Int, _ n: Int) -> Int? {
        guard at + 1 < n, p[at + 1] < 0x80 else { return nil }
        let a = lowercased(p[at + 1])
        if a == UInt8(ascii: "s") || a == UInt8(ascii: "d") || a == UInt8(ascii: "m") || a == UInt8(ascii: "t") {
            return at + 2
        }
        guard at + 2 < n, p[at + 2] < 0x80 else { return nil }
        let b = lowercased(p[at + 2])
        if (a == UInt8(ascii: "l") && b == UInt8(ascii: "l")) || (a == UInt8(ascii: "v") && b == UInt8(ascii: "e"))
            || (a == UInt8(ascii: "r") && b == UInt8(ascii: "e")) {
            return at + 3
        }
        return nil
    }

    /// `\p{N}{1,3}` at a digit.
    @inline(__always)
    private static func digits(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>) -> Int? {
        var j = start
        while j < n && j - start < 3 && k[Int(p[j])] == digit { j += 1 }
        return j - start < 3 && j < n && p[j] >= 0x80 ? nil : j
    }

    private enum Match { case end(Int), noMatch, unknown }

    /// The two alternatives both patterns try after their letter ones, in order: `\p{N}{1,3}` at a digit, then
    /// ` ?[^\s\p{L}\p{N}]+` with its trailing line breaks (`slash`: o200k's `[\r\n/]*`).
    @inline(__always)
    private static func numberOrPunctuation(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>,
                                            slash: Bool) -> Match {
        if k[Int(p[start])] == digit { return digits(p, start, n, k).map(Match.end) ?? .unknown }
        return punctuation(p, start, n, k, slash: slash)
    }

    /// ` ?[^\s\p{L}\p{N}]+` and the trailing `[\r\n]*` (o200k: `[\r\n/]*`). Callers have returned nil already
    /// when the character after a first space or punctuation mark is outside ASCII.
    @inline(__always)
    private static func punctuation(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ k: UnsafePointer<UInt8>,
                                    slash: Bool) -> Match {
        var j = start
        if p[j] == UInt8(ascii: " ") && j + 1 < n && k[Int(p[j + 1])] == other { j += 1 }
        guard k[Int(p[j])] == other else { return .noMatch }
        while j < n && k[Int(p[j])] == other { j += 1 }
        if j < n && p[j] >= 0x80 { return .unknown }  // the run could go on with `—`
        while j < n && (isLineBreak(p[j]) || (slash && p[j] == UInt8(ascii: "/"))) { j += 1 }
        return .end(j)
    }
}
