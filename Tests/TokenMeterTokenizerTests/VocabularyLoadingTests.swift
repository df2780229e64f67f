import Foundation
import Testing
@testable import TokenMeterTokenizer

@Suite struct VocabularyLoadingTests {
    let temp: URL

    init() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("tm-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    var cl100kSource: String { Fixtures.vocabDirectory.appendingPathComponent("cl100k_base.tiktoken").path }

    @Test func aCorruptVocabFileIsRefusedNamingItsPath() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cl100kSource))
        bytes[1000] ^= 0x01
        let path = temp.appendingPathComponent("cl100k_base.tiktoken").path
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: TokenizerError.self) {
            try Encoding.load(.cl100k_base, vocabPath: path, cacheDirectory: nil)
        }
        if case let .vocabHashMismatch(p, expected, actual)? = error {
            #expect(p == path)
            #expect(expected == EncodingName.cl100k_base.vocabSHA256)
            #expect(actual != expected)
        } else {
            Issue.record("expected a hash mismatch, got \(String(describing: error))")
        }
        #expect(error?.description.contains(path) == true)
    }

    @Test func aMissingVocabFileIsAClearError() {
        let path = temp.appendingPathComponent("nothing.tiktoken").path
        #expect(throws: TokenizerError.vocabUnreadable(path: path, reason: "no such file")) {
            try Encoding.load(.cl100k_base, vocabPath: path, cacheDirectory: nil)
        }
    }

    @Test func theBinaryCacheIsBuiltOnceThenMappedAndGivesTheSameIDs() throws {
        let cacheDir = temp.appendingPathComponent("cache").path
        let fresh = try Encoding.load(.cl100k_base, vocabPath: cl100kSource, cacheDirectory: cacheDir)
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheDir)
        #expect(files == ["cl100k_base.tiktoken-223921b76ee99bde.tmbpe"])
        let mapped = try Encoding.load(.cl100k_base, vocabPath: cl100kSource, cacheDirectory: cacheDir)
        let text = Fixtures.corpusText("multilingual.txt")
        #expect(fresh.encode(text) == mapped.encode(text))
        #expect(mapped.encode(text) == Fixtures.golden.encodings["cl100k_base"]!["multilingual.txt"]!.ids)
    }

    @Test func aStaleOrDamagedCacheIsRebuiltFromTheVerifiedSource() throws {
        let cacheDir = temp.appendingPathComponent("cache").path
        _ = try Encoding.load(.cl100k_base, vocabPath: cl100kSource, cacheDirectory: cacheDir)
        let cacheFile = "\(cacheDir)/cl100k_base.tiktoken-223921b76ee99bde.tmbpe"
        // Damage the header's recorded source hash: the cache must not be trusted.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cacheFile))
        bytes[60] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: cacheFile))
        let reloaded = try Encoding.load(.cl100k_base, vocabPath: cl100kSource, cacheDirectory: cacheDir)
        #expect(reloaded.encode("hello world") == [15339, 1917])
        let rewritten = try Data(contentsOf: URL(fileURLWithPath: cacheFile))
        #expect(rewritten[60] != bytes[60])
        // Truncated cache: also rebuilt.
        try Data(bytes.prefix(100)).write(to: URL(fileURLWithPath: cacheFile))
        #expect(try Encoding.load(.cl100k_base, vocabPath: cl100kSource, cacheDirectory: cacheDir).count("hello") == 1)
    }

    @Test func malformedLinesNameTheLine() {
        #expect(throws: TokenizerError.vocabMalformed(path: "v", line: 2, reason: "invalid base64")) {
            _ = try VocabularyFile.parse(Array("IQ== 0\n!!!= 1\n".utf8), path: "v")
        }
        #expect(throws: TokenizerError.vocabMalformed(path: "v", line: 1, reason: "invalid rank")) {
            _ = try VocabularyFile.parse(Array("IQ== x\n".utf8), path: "v")
        }
        #expect(throws: TokenizerError.vocabMalformed(path: "v", line: 1, reason: "expected 'base64 rank'")) {
            _ = try VocabularyFile.parse(Array("IQ==\n".utf8), path: "v")
        }
    }

    @Test func theLocatorFindsTheRepositoryVocabFromTheTestBinary() throws {
        let path = try VocabularyLocator.path(of: "o200k_base.tiktoken")
        #expect(path.hasSuffix("vocab/o200k_base.tiktoken"))
    }
}
