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
