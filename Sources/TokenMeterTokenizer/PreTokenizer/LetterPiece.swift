/// Finds cl100k_base's letter pieces without running the regex, for any script whose characters are in
/// the Basic Multilingual Plane (Cyrillic, Greek, Arabic, CJK, accented Latin...): `StablePiece` does the
/// same for ASCII only.
///
/// cl100k's pattern begins `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|...`. At a piece start
/// `start` whose character is not `'`, the contraction alternative fails at once. If the character there
/// is a letter, or is neither a letter, a number, CR nor LF and is followed by a letter, the second
/// alternative matches: the possessive `?+` takes that first character, the possessive `\p{L}++` every
/// letter after it, up to the first character that is not a letter (or the end of the text), and never
/// gives any back. An alternative that matches ends the search, so that is the piece at `start`,
/// decided by its own characters and the one after it, never by what lies beyond. Hence:
/// - if a complete non-letter follows the letters, the piece is final, whatever text is appended;
/// - if the letters reach the end of the text, the piece is the whole rest of the text.
///
/// Which characters are letters is PCRE2's own answer (`\p{L}` and `\p{N}` in UTF+UCP mode, the same
/// tables the verbatim pattern uses), read once into a table. The compatibility pattern differs only on
/// `ChangedScalars`; those, and characters above U+FFFF, are "unknown" and make `end` return nil, so the
/// caller falls back to the regex. o200k's letter alternatives depend on letter case and take a
/// contraction suffix, so this is for cl100k only.
enum LetterPiece {
    /// What the pattern's classes say about one character.
    enum Kind: UInt64 {
        /// Neither `\p{L}` nor `\p{N}` (punctuation, symbols, white space, marks, unassigned).
        case other = 0
        case letter = 1
        case number = 2
        /// A character this shortcut does not decide: in `ChangedScalars`, or above U+FFFF.
        case unknown = 3
    }

    /// Where the letter piece at `start` ends in `p[start..<end]` (valid UTF-8 up to `end`), or nil when
    /// the piece there is not one (or this cannot tell). A result below `end` is final: the character
    /// there is a known non-letter. A result equal to `end` is the whole rest of the text.
    /// `kinds` is `table`. `lettersFrom`: an offset up to which the text after the first character is
    /// known to be letters (from an earlier call on the same piece), so a long run is not scanned again
    /// on every delta.
    @inline(__always)
    static func end(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, kinds: UnsafePointer<UInt64>,
                    lettersFrom: Int = 0) -> Int? {
        var i = start
        let (first, firstLength) = decode(p, i, kinds)
        i += firstLength
        if first != .letter {
            // The optional first character: `[^\r\n\p{L}\p{N}]`, and not the `'` of a contraction.
            let byte = p[start]
            guard first == .other, byte != 0x0D, byte != 0x0A, byte != UInt8(ascii: "'"), i < end else { return nil }
            let (second, secondLength) = decode(p, i, kinds)
            guard second == .letter else { return nil }
            i += secondLength
        }
        if lettersFrom > i { i = lettersFrom }
        while i < end {
            let (kind, length) = decode(p, i, kinds)
            if kind == .letter { i += length; continue }
            return kind == .unknown ? nil : i
        }
        return i
    }

    /// The kind of the character at `p[i]` (valid UTF-8) and its length in bytes.
    @inline(__always)
    static func decode(_ p: UnsafePointer<UInt8>, _ i: Int, _ kinds: UnsafePointer<UInt64>) -> (Kind, Int) {
        let b = p[i]
        if b < 0x80 {
            if StablePiece.isLetter(b) { return (.letter, 1) }
            return (StablePiece.isDigit(b) ? .number : .other, 1)
        }
        let v: Int
        let length: Int
        if b < 0xE0 {
            v = Int(b & 0x1F) << 6 | Int(p[i + 1] & 0x3F)
            length = 2
        } else if b < 0xF0 {
            v = Int(b & 0x0F) << 12 | Int(p[i + 1] & 0x3F) << 6 | Int(p[i + 2] & 0x3F)
            length = 3
        } else {
            return (.unknown, 4)
        }
        return (Kind(rawValue: (kinds[v >> 5] >> UInt64((v & 31) * 2)) & 3)!, length)
    }

    /// Two bits per code point below U+10000 (a `Kind`), 32 to a word: 16 KB, built on first use and
    /// kept for the life of the process (a pointer, so that a counter can hold it without reference
    /// counting or a lazy-global check per character). `nonisolated(unsafe)`: written only inside this
    /// initializer, which runs once, and read-only afterwards.
    nonisolated(unsafe) static let table: UnsafePointer<UInt64> = {
        var bits = [UInt64](repeating: 0, count: 0x10000 / 32)
        func set(_ v: Int, _ kind: Kind) {
            bits[v >> 5] = bits[v >> 5] & ~(3 << UInt64((v & 31) * 2)) | kind.rawValue << UInt64((v & 31) * 2)
        }
        // Every scalar of the plane in order, one subject; each match of `\p{L}+` or `\p{N}+` is a run
        // of code points with that property. `starts[k]` is where the k-th scalar, `values[k]`, begins;
        // matches come in order, so a cursor maps their offsets back to code points.
        var subject: [UInt8] = []
        subject.reserveCapacity(0x10000 * 3)
        var starts: [Int32] = [], values: [Int32] = []
        starts.reserveCapacity(0x10000)
        values.reserveCapacity(0x10000)
        for v in 0..<0x10000 {
            guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }  // surrogates
            starts.append(Int32(subject.count))
            values.append(Int32(v))
            Unicode.UTF8.encode(scalar) { subject.append($0) }
        }
        for (pattern, kind) in [(#"\p{L}+"#, Kind.letter), (#"\p{N}+"#, .number)] {
            // The patterns are constant and compile; a failure here is a broken PCRE2 build. The matcher
            // does not keep the compiled pattern alive: `compiled` does, to the end of the loop body.
            let compiled = try! PreTokenizer(pattern: pattern)
            let matcher = PieceMatcher(compiled)
            defer { withExtendedLifetime(compiled) {} }
            var k = 0
            subject.withUnsafeBufferPointer { s in
                var offset = 0
                while case let .piece(start, end) = matcher.next(in: s.baseAddress!, count: s.count, from: offset) {
                    while Int(starts[k]) < start { k += 1 }
                    while k < starts.count && Int(starts[k]) < end { set(Int(values[k]), kind); k += 1 }
                    offset = end
                }
            }
        }
        for v in 0x80..<0x10000 where ChangedScalars.bitmap[v >> 6] & (1 << UInt64(v & 63)) != 0 { set(v, .unknown) }
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: bits.count)
        table.initialize(from: bits, count: bits.count)
        return UnsafePointer(table)
    }()
}
