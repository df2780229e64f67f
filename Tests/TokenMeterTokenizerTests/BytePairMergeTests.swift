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

    @Test func aHundredThousandLetterRunEncodesAndRoundTrips() throws {
        let enc = try Encoding.named(.o200k_base)
        let text = String(repeating: "ab", count: 50_000)
        let ids = enc.encode(text)
        #expect(try enc.decodeString(ids) == text)
        #expect(enc.count(text) == ids.count)
    }
}
