import Testing
import TokenMeterTokenizer

/// Every corpus file, both encodings: ids and counts identical to tiktoken's.
@Suite struct GoldenCorpusTests {
    static let cases: [(EncodingName, String)] = [EncodingName.cl100k_base, .o200k_base].flatMap { e in
        Fixtures.corpusNames.map { (e, $0) }
    }

    @Test(arguments: cases)
    func encodeMatchesTiktoken(encoding: EncodingName, file: String) throws {
        let enc = try Encoding.named(encoding)
        let golden = try #require(Fixtures.golden.encodings[encoding.rawValue]?[file])
        let bytes = Fixtures.corpus(file)
        let ids = bytes.withUnsafeBufferPointer { enc.encode(utf8: $0) }
        #expect(ids.count == golden.count)
        if let i = zip(ids, golden.ids).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("\(file): first difference at token \(i): \(ids[i]) vs tiktoken \(golden.ids[i])")
        }
        #expect(ids == golden.ids)
        #expect(enc.count(Fixtures.corpusText(file)) == golden.count)
    }

    @Test(arguments: cases)
    func decodeOfEncodeIsTheOriginalBytes(encoding: EncodingName, file: String) throws {
        let enc = try Encoding.named(encoding)
        let bytes = Fixtures.corpus(file)
        #expect(try enc.decode(enc.encode(Fixtures.corpusText(file))) == bytes)
        #expect(try enc.decodeString(enc.encode(Fixtures.corpusText(file))) == Fixtures.corpusText(file))
    }
}
