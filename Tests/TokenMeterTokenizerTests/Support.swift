import Foundation
import TokenMeterTokenizer

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
