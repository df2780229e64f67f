import Foundation
import Testing
import TokenMeterTestSupport
@testable import TokenMeterTokenizer

@Suite struct BytePairMergeTests {
    /// The heap path for long pieces must make exactly the merges of the quadratic scan.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func longPieceMergesEqualTheScan(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        var rng = SeededGenerator(seed: 42)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzéß日本".utf8)
        for length in [2, 3, 17, 64, 255, 256, 300] {
            for _ in 0..<20 {
                let piece = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
                var scan: [UInt32] = [], heap: [UInt32] = []
                piece.withUnsafeBufferPointer { p in
                    BytePairMerge.merge(p.baseAddress!, p.count, enc.table) { scan.append($0) }
                    BytePairMerge.mergeLongForTesting(p.baseAddress!, p.count, enc.table) { heap.append($0) }
                    #expect(BytePairMerge.count(p.baseAddress!, p.count, enc.table) == scan.count)
                }
                #expect(scan == heap, "length \(length)")
            }
        }
    }

    /// The backtracking encoder must give the merge loop's tokens: random pieces over small alphabets (many
    /// tokens, many dead ends), runs of one character and of repeated syllables, every length around the
    /// switch-over, on both encodings.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func backtrackingEqualsTheMergeLoop(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        var rng = SeededGenerator(seed: 7)
        let alphabets = [Array("ab".utf8), Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("aeiou nst".utf8),
                         Array("éß日本語кириллица".utf8), Array("0123456789".utf8), Array(" \n\t".utf8)]
        var pieces: [[UInt8]] = []
        for alphabet in alphabets {
            for length in [2, 3, 5, 17, 64, 255, 256, 257, 700, 3000] {
                for _ in 0..<6 { pieces.append((0..<length).map { _ in alphabet.randomElement(using: &rng)! }) }
            }
        }
        for unit in ["a", " ", "ab", "abc", "na", "\n", "日", "é", "0", "xyz ", "=", "-"] {
            for repeats in [3, 100, 333, 1000, 2049] { pieces.append(Array(String(repeating: unit, count: repeats).utf8)) }
        }
        for piece in pieces {
            var scan: [UInt32] = [], heap: [UInt32] = [], backtracked: [UInt32] = []
            piece.withUnsafeBufferPointer { p in
                BytePairMerge.mergeLongForTesting(p.baseAddress!, p.count, enc.table) { heap.append($0) }
                #expect(BytePairMerge.mergeBacktrackingForTesting(p.baseAddress!, p.count, enc.table) { backtracked.append($0) })
            }
            if piece.count <= BytePairMerge.longPiece {
                piece.withUnsafeBufferPointer { p in BytePairMerge.merge(p.baseAddress!, p.count, enc.table) { scan.append($0) } }
                #expect(scan == heap, "\(piece.count) bytes")
            }
            #expect(backtracked == heap, "\(piece.count) bytes: \(String(decoding: piece.prefix(40), as: UTF8.self))…")
        }
    }

    /// The prefix set that lets the backtracking encoder skip lengths holds the first 3…8 bytes of every
    /// reachable token that long (no false "cannot begin here"), in a derived tree and in one read back from its
    /// cache file; and it rules out the long lengths in a run of `ab`, the case it is for.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func prefixSetHoldsEveryLongToken(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        let derived = try #require(MergeTree(enc.table))
        let read = try #require(MergeTree(serialized: derived.serialized(), tokenCount: enc.table.tokenCount))
        func prefix(_ bytes: some Collection<UInt8>) -> UInt64 {
            bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        }
        var checked = 0
        for tree in [derived, read] {
            for t in 0..<enc.table.tokenCount where tree.isReachable(UInt32(t)) {
                let bytes = try #require(enc.table.bytes(ofRank: t))
                for length in MergeTree.prefixLengths where length <= bytes.count {
                    #expect(tree.mayBegin(prefix(bytes.prefix(length)), length: length))
                    checked += 1
                }
            }
        }
        #expect(checked > 200_000)
        let run = Array(String(repeating: "ab", count: 4).utf8)
        #expect(!derived.mayBegin(prefix(run), length: 8) && !derived.mayBegin(prefix(run.dropFirst()), length: 7))
    }

    /// The merge tree's cache file reads back as the tree it was written from; one that does not fit is refused.
    @Test func mergeTreeCacheFileRoundTrips() throws {
        let enc = try Encoding.named(.cl100k_base)
        let tree = try #require(MergeTree(enc.table))
        let bytes = tree.serialized()
        let back = try #require(MergeTree(serialized: bytes, tokenCount: enc.table.tokenCount))
        #expect(back.serialized() == bytes)
        #expect(back.left == tree.left && back.right == tree.right && back.lengths == tree.lengths)
        #expect(MergeTree(serialized: Array(bytes.dropLast()), tokenCount: enc.table.tokenCount) == nil)
        #expect(MergeTree(serialized: bytes, tokenCount: enc.table.tokenCount + 1) == nil)
        var wrongVersion = bytes
        wrongVersion[8] &+= 1
        #expect(MergeTree(serialized: wrongVersion, tokenCount: enc.table.tokenCount) == nil)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tm-tree-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let derived = try #require(MergeTree.load(enc.table, cacheDirectory: directory))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 1 && files[0].hasSuffix(".tmtree"))
        let cached = try #require(MergeTree.load(enc.table, cacheDirectory: directory))
        #expect(cached.serialized() == derived.serialized())
        // For every token, the split halves rank below it and spell it.
        for t in 0..<enc.table.tokenCount where tree.left[t] != UInt32(t) {
            let l = Int(tree.left[t]), r = Int(tree.right[t])
            #expect(l < t && r < t)
            #expect(Array(enc.table.bytes(ofRank: l)!) + Array(enc.table.bytes(ofRank: r)!) == Array(enc.table.bytes(ofRank: t)!))
        }
    }

    @Test func aHundredThousandLetterRunEncodesAndRoundTrips() throws {
        let enc = try Encoding.named(.o200k_base)
        let text = String(repeating: "ab", count: 50_000)
        let ids = enc.encode(text)
        #expect(try enc.decodeString(ids) == text)
        #expect(enc.count(text) == ids.count)
    }
}

@Suite struct PieceCacheTests {
    /// Long texts go through the piece cache: ids and counts must be those of merging every piece afresh, with
    /// many repeats, more distinct pieces than the cache has slots (collisions replace entries), and pieces
    /// that are equal in hash slot and length but not in bytes.
    @Test(arguments: [EncodingName.cl100k_base, .o200k_base])
    func cachedEqualsUncached(encoding: EncodingName) throws {
        let enc = try Encoding.named(encoding)
        var rng = SeededGenerator(seed: 11)
        let syllables = ["ka", "το", "ни", "日本", "語", "ข้", "าว", "ß", "é", "qu", "x", "zz", "数据", "ción", "😀", "ــ"]
        var words: [String] = []
        for _ in 0..<12_000 {
            words.append((0..<Int.random(in: 1...6, using: &rng)).map { _ in syllables.randomElement(using: &rng)! }.joined())
        }
        var text = ""
        for _ in 0..<60_000 {
            // Zipf-like: a few words very often, the rest rarely.
            let i = min(words.count - 1, Int(Double(words.count) * pow(Double.random(in: 0..<1, using: &rng), 4)))
            text += words[i] + (Bool.random(using: &rng) ? " " : ", ")
        }
        var bytes = Array(text.utf8)
        let cached = bytes.withUnsafeBufferPointer { enc.encode(utf8: $0) }
        var plain: [Int] = []
        bytes.withUnsafeBufferPointer { b in enc.forEachPieceToken(b.baseAddress!, b.count) { plain.append(Int($0)) } }
        #expect(bytes.count > 100_000)
        #expect(cached == plain)
        #expect(bytes.withUnsafeBufferPointer { enc.count(utf8: $0) } == plain.count)
        bytes.removeLast(bytes.count - 4_000)  // below the cache's threshold: the plain path
        while bytes.last.map({ $0 & 0xC0 == 0x80 }) == true { bytes.removeLast() }
        if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        var shortPlain: [Int] = []
        bytes.withUnsafeBufferPointer { b in enc.forEachPieceToken(b.baseAddress!, b.count) { shortPlain.append(Int($0)) } }
        #expect(bytes.withUnsafeBufferPointer { enc.encode(utf8: $0) } == shortPlain)
    }
}
