import Foundation
@testable import TokenMeterTokenizer

/// Paths and golden data shared by the tokenizer tests.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let vocabDirectory = repositoryRoot.appendingPathComponent("vocab")

    struct GoldenFile: Decodable { let count: Int; let ids: [Int] }
    struct Golden: Decodable { let source: String; let encodings: [String: [String: GoldenFile]] }

    /// tiktoken's ids for every corpus file (see Fixtures/README.md for their origin).
    static let golden: Golden = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("golden.json"))
        return try! JSONDecoder().decode(Golden.self, from: data)
    }()

    static func corpus(_ name: String) -> [UInt8] {
        Array(try! Data(contentsOf: directory.appendingPathComponent("corpus").appendingPathComponent(name)))
    }

    static func corpusText(_ name: String) -> String { String(decoding: corpus(name), as: UTF8.self) }

    static var corpusNames: [String] { golden.encodings["o200k_base"]!.keys.sorted() }
}

/// The pieces (start, end) of `bytes[0..<count]` by `matcher`'s regex, as the pre-tokenizer finds them: the
/// reference the regex-free shortcuts (`StablePiece`, `LetterPiece`) are checked against.
func pieces(_ bytes: [UInt8], _ count: Int, _ matcher: PieceMatcher) -> [(Int, Int)] {
    bytes.withUnsafeBufferPointer { b in
        var out: [(Int, Int)] = []
        var offset = 0
        while offset < count, case let .piece(s, e) = matcher.next(in: b.baseAddress!, count: count, from: offset) {
            out.append((s, e))
            offset = e
        }
        return out
    }
}
