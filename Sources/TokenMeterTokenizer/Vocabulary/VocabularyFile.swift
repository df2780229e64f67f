import Crypto

/// Reads a `.tiktoken` vocab file (`base64(token bytes) SP rank` per line), verifying its SHA-256.
enum VocabularyFile {
    /// Parses and verifies the file at `path` for `encoding`; returns the serialized token table.
    static func buildTable(path: String, encoding: EncodingName) throws(TokenizerError) -> [UInt8] {
        guard let status = FileSystem.status(path) else {
            throw .vocabUnreadable(path: path, reason: "no such file")
        }
        let bytes: [UInt8]
        switch FileSystem.read(path) {
        case .success(let b): bytes = b
        case .failure(let e): throw .vocabUnreadable(path: path, reason: e.message)
        }
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = Array(hasher.finalize())
        let actual = hex(digest)
        guard actual == encoding.vocabSHA256 else {
            throw .vocabHashMismatch(path: path, expected: encoding.vocabSHA256, actual: actual)
        }
        let tokens = try parse(bytes, path: path)
        let source = TokenTableSource(sha256: digest, size: status.size, mtimeSeconds: status.mtimeSeconds,
                                      mtimeNanoseconds: status.mtimeNanoseconds)
        return TokenTable.serialize(tokens: tokens, source: source)
    }

    /// The (bytes, rank) pairs of a vocab file's contents; blank lines are skipped as tiktoken does.
    static func parse(_ bytes: [UInt8], path: String) throws(TokenizerError) -> [(bytes: ArraySlice<UInt8>, rank: Int)] {
        var tokens: [(range: Range<Int>, rank: Int)] = []
        tokens.reserveCapacity(bytes.count / 12)
        var decoded = [UInt8]()
        decoded.reserveCapacity(bytes.count)
        var line = 0
        var i = 0
        while i < bytes.count {
            line += 1
            var end = i
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            defer { i = end + 1 }
            if end == i { continue }
            guard let space = bytes[i..<end].firstIndex(of: 0x20) else {
                throw .vocabMalformed(path: path, line: line, reason: "expected 'base64 rank'")
            }
            let start = decoded.count
            guard Base64.decode(bytes[i..<space], into: &decoded) else {
                throw .vocabMalformed(path: path, line: line, reason: "invalid base64")
            }
            var rank = 0
            var digits = bytes[(space + 1)..<end]
            if digits.last == 0x0D { digits = digits.dropLast() }
            guard !digits.isEmpty, digits.count <= 9 else {
                throw .vocabMalformed(path: path, line: line, reason: "invalid rank")
            }
            for d in digits {
                guard d >= 0x30 && d <= 0x39 else { throw .vocabMalformed(path: path, line: line, reason: "invalid rank") }
                rank = rank * 10 + Int(d - 0x30)
            }
            guard decoded.count > start else { throw .vocabMalformed(path: path, line: line, reason: "empty token") }
            tokens.append((start..<decoded.count, rank))
        }
        // Slice only now: a slice taken earlier would share `decoded` and make every append copy it.
        return tokens.map { (decoded[$0.range], $0.rank) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Standard base64 (RFC 4648, with padding) decoding, as the vocab files use.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = UInt8(i)
        }
        return t
    }()

    /// Appends the decoded bytes of `text` to `out`; false if `text` is not valid base64.
    static func decode(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        var body = text
        var padding = 0
        while body.last == UInt8(ascii: "=") && padding < 2 { body = body.dropLast(); padding += 1 }
        guard (body.count + padding) % 4 == 0 else { return false }
        var acc: UInt32 = 0, bits = 0
        for c in body {
            let v = table[Int(c)]
            guard v != 0xFF else { return false }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        return true
    }
}
