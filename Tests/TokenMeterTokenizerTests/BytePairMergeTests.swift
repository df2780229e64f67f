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

    @Test func aHundredThousandLetterRunEncodesAndRoundTrips() throws {
        let enc = try Encoding.named(.o200k_base)
        let text = String(repeating: "ab", count: 50_000)
        let ids = enc.encode(text)
        #expect(try enc.decodeString(ids) == text)
        #expect(enc.count(text) == ids.count)
    }
}
