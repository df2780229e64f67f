extension Encoding {
    /// The token ids of `text` as ordinary text: special-token strings such as `<|endoftext|>` are
    /// encoded like any other text (tiktoken's `encode_ordinary`).
    public func encode(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { encode(utf8: $0) }
    }

    /// The token ids of valid UTF-8 bytes as ordinary text.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count / 3)
        guard let base = bytes.baseAddress else { return ids }
        guard bytes.count >= PieceCache.minimumText, bytes.count < Int(UInt32.max) else {
            forEachPieceToken(base, bytes.count) { ids.append(Int($0)) }
            return ids
        }
        let cache = PieceCache(text: base)
        var splitter = PieceSplitter(self)
        splitter.forEachPiece(base, bytes.count) { start, end in
            let n = end - start
            let p = base + start
            if n == 1 { ids.append(Int(byteRanks[Int(p.pointee)])); return }
            let h = TokenHash.hash(p, n)
            let whole = table.rank(p, n, hash: h)
            if whole != .max { ids.append(Int(whole)); return }
            if let (tokens, first) = cache.lookup(hash: h, start: start, length: n), first + tokens <= ids.count {
                for i in first..<(first + tokens) { ids.append(ids[i]) }
                return
            }
            let first = ids.count
            BytePairMerge.merge(p, n, table) { ids.append(Int($0)) }
            cache.store(hash: h, start: start, length: n, tokens: ids.count - first, firstID: first)
        }
        return ids
    }

    /// The number of tokens in `text` as ordinary text; the same as `encode(text).count`, faster.
    public func count(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { count(utf8: $0) }
    }

    /// The number of tokens in valid UTF-8 bytes as ordinary text.
    public func count(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var splitter = PieceSplitter(self)
        var total = 0
        guard bytes.count >= PieceCache.minimumText, bytes.count < Int(UInt32.max) else {
            splitter.forEachPiece(base, bytes.count) { start, end in total += pieceCount(base + start, end - start) }
            return total
        }
        let cache = PieceCache(text: base)
        splitter.forEachPiece(base, bytes.count) { start, end in
            let n = end - start
            let p = base + start
            if n == 1 { total += 1; return }
            let h = TokenHash.hash(p, n)
            if table.rank(p, n, hash: h) != .max { total += 1; return }
            if let (tokens, _) = cache.lookup(hash: h, start: start, length: n) { total += tokens; return }
            let tokens = BytePairMerge.count(p, n, table)
            cache.store(hash: h, start: start, length: n, tokens: tokens)
            total += tokens
        }
        return total
    }

    /// Tokens of one piece (ordinary text).
    @inline(__always)
    func pieceCount(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        if n == 1 || table.rank(p, n) != .max { return 1 }
        return BytePairMerge.count(p, n, table)
    }

    /// Calls `emit` for every token id of `bytes[0..<count]` (valid UTF-8), in order.
    @inline(__always)
    func forEachPieceToken(_ base: UnsafePointer<UInt8>, _ count: Int, _ emit: (UInt32) -> Void) {
        var splitter = PieceSplitter(self)
        splitter.forEachPiece(base, count) { start, end in
            let n = end - start
            let p = base + start
            if n == 1 {
                emit(byteRanks[Int(p.pointee)])
            } else {
                let whole = table.rank(p, n)
                if whole != .max { emit(whole) } else { BytePairMerge.merge(p, n, table, emit) }
            }
        }
    }

    /// Token ids of `text` where the special tokens named in `allowedSpecial` are encoded as their
    /// special ids and everything else as ordinary text (tiktoken's `encode(text, allowed_special=...)`
    /// with `disallowed_special=()`). Pass `allSpecialTokens` to allow every special token.
    public func encode(_ text: String, allowedSpecial: Set<String>) throws(TokenizerError) -> [Int] {
        for s in allowedSpecial where specialIDs[s] == nil { throw .unknownSpecialToken(s) }
        guard !allowedSpecial.isEmpty else { return encode(text) }
        var text = text
        return text.withUTF8 { bytes in
            var ids: [Int] = []
            guard let base = bytes.baseAddress else { return ids }
            var segmentStart = 0
            var i = 0
            let n = bytes.count
            // Every special token starts with "<|": scan for that, then test the allowed names there.
            // At one position the longest allowed name wins (none of tiktoken's is a prefix of another).
            while i + 1 < n {
                if bytes[i] == UInt8(ascii: "<") && bytes[i + 1] == UInt8(ascii: "|"),
                   let (special, length) = specialToken(at: i, in: bytes, allowed: allowedSpecial) {
                    forEachPieceToken(base + segmentStart, i - segmentStart) { ids.append(Int($0)) }
                    ids.append(special)
                    i += length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
            forEachPieceToken(base + segmentStart, n - segmentStart) { ids.append(Int($0)) }
            return ids
        }
    }

    /// Every special token's name, for `encode(_:allowedSpecial:)`.
    public var allSpecialTokens: Set<String> { Set(specialIDs.keys) }

    private func specialToken(at i: Int, in bytes: UnsafeBufferPointer<UInt8>,
                              allowed: Set<String>) -> (id: Int, length: Int)? {
        // Special names are short ASCII: find the closing "|>" and look the candidate up.
        var j = i + 2
        let limit = min(bytes.count, i + 64)
        while j + 1 < limit {
            if bytes[j] == UInt8(ascii: "|") && bytes[j + 1] == UInt8(ascii: ">") {
                let candidate = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<(j + 2)]), as: UTF8.self)
                guard allowed.contains(candidate), let id = specialIDs[candidate] else { return nil }
                return (id, j + 2 - i)
            }
            j += 1
        }
        return nil
    }
}

extension Encoding {
    /// The number of pre-tokenizer pieces in valid UTF-8 bytes: the regex stage alone, for benchmarks.
    @_spi(Benchmark)
    public func countPieces(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var splitter = PieceSplitter(self)
        var pieces = 0
        splitter.forEachPiece(base, bytes.count) { _, _ in pieces += 1 }
        return pieces
    }
}
