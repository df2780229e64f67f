import Foundation
import Testing

/// Golden data of the tokenizer tests, shared with the CLI tests.
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TokenMeterTokenizerTests/Fixtures")
}

@Suite struct TokenizerCommandTests {
    let cli = try! CLIRunner()
    struct Golden: Decodable { let encodings: [String: [String: File]]; struct File: Decodable { let count: Int; let ids: [Int] } }
    let golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: TokenizerFixtures.directory.appendingPathComponent("golden.json")))
    func corpus(_ name: String) -> String { TokenizerFixtures.directory.appendingPathComponent("corpus/\(name)").path }

    @Test func countOfOneInputPrintsTheNumberAlone() throws {
        let r = try cli.run(["count"], stdin: Data("hello world".utf8))
        #expect(r.status == 0)
        #expect(r.stdout == "2\n")
        let file = try cli.run(["count", "--encoding", "cl100k_base", corpus("prose_en.txt")])
        #expect(file.stdout == "\(golden.encodings["cl100k_base"]!["prose_en.txt"]!.count)\n")
    }

    @Test func countOfSeveralFilesPrintsLinesAndATotalLikeWc() throws {
        let names = ["prose_en.txt", "emoji.txt"]
        let r = try cli.run(["count", "--model", "gpt-4o"] + names.map(corpus))
        let counts = names.map { golden.encodings["o200k_base"]![$0]!.count }
        let total = counts.reduce(0, +)
        let width = String(total).count
        func pad(_ n: Int) -> String { String(repeating: " ", count: width - String(n).count) + String(n) }
        #expect(r.status == 0)
        #expect(r.stdout == "\(pad(counts[0])) \(corpus(names[0]))\n\(pad(counts[1])) \(corpus(names[1]))\n\(pad(total)) total\n")
    }

    @Test func countJSONIsMachineReadable() throws {
        let r = try cli.run(["count", "--json", "-"], stdin: Data("tiktoken is great!".utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        #expect(object["encoding"] as? String == "o200k_base")
        #expect(object["total"] as? Int == 6)
        let inputs = try #require(object["inputs"] as? [[String: Any]])
        #expect(inputs.first?["name"] as? String == "-")
        #expect(inputs.first?["bytes"] as? Int == 18)
    }

    @Test func encodePrintsTiktokensIdsOnOneLine() throws {
        let r = try cli.run(["encode", "-e", "cl100k_base", corpus("multilingual.txt")])
        #expect(r.status == 0)
        #expect(r.stdout == golden.encodings["cl100k_base"]!["multilingual.txt"]!.ids.map(String.init).joined(separator: " ") + "\n")
        let special = try cli.run(["encode", "-e", "cl100k_base", "--allow-special", "all"], stdin: Data("hello <|endoftext|>".utf8))
        #expect(special.stdout == "15339 220 100257\n")
    }

    @Test func decodeRoundTripsEncodeExactly() throws {
        let text = try Data(contentsOf: URL(fileURLWithPath: corpus("whitespace.txt")))
        let ids = try cli.run(["encode", "--model", "gpt-4"], stdin: text)
        let back = try cli.run(["decode", "--model", "gpt-4"], stdin: ids.stdoutData)
        #expect(back.status == 0)
        #expect(back.stdoutData == text)
        #expect(try cli.run(["decode", "24912", "2375"]).stdout == "hello world")
    }

    @Test func unknownModelOrEncodingExitsWithUsageAndListsValidNames() throws {
        let model = try cli.run(["count", "--model", "gpt-nine"], stdin: Data("x".utf8))
        #expect(model.status == 64)
        #expect(model.stderr.contains("unknown model 'gpt-nine'"))
        #expect(model.stderr.contains("gpt-4o"))
        let encoding = try cli.run(["encode", "--encoding", "p50k"], stdin: Data("x".utf8))
        #expect(encoding.status == 64)
        #expect(encoding.stderr.contains("cl100k_base, o200k_base, o200k_harmony"))
        let both = try cli.run(["count", "--model", "gpt-4", "--encoding", "cl100k_base"], stdin: Data("x".utf8))
        #expect(both.status == 64)
    }

    @Test func invalidUTF8ExitsWithDataErrorNamingTheOffset() throws {
        let r = try cli.run(["count"], stdin: Data([0x61, 0x62, 0xE2, 0x28, 0xA1]))
        #expect(r.status == 65)
        #expect(r.stderr.contains("offset 2"))
    }

    @Test func missingInputFileExitsWithNoInput() throws {
        let r = try cli.run(["count", "/nonexistent/file.txt"])
        #expect(r.status == 66)
        #expect(r.stderr.contains("/nonexistent/file.txt"))
    }

    @Test func outOfRangeOrNonNumericIDsExitWithDataError() throws {
        let r = try cli.run(["decode", "-e", "cl100k_base", "15339", "100261"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("token id 100261"))
        let word = try cli.run(["decode"], stdin: Data("12 abc".utf8))
        #expect(word.status == 65)
        #expect(word.stderr.contains("'abc'"))
    }

    @Test func aVocabDirectoryWithoutTheFilesIsReportedByPath() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tm-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try cli.run(["count"], stdin: Data("x".utf8), environment: ["TOKENMETER_VOCAB": empty.path])
        #expect(r.status == 72)
        #expect(r.stderr.contains(empty.path))
        #expect(r.stderr.contains("TOKENMETER_VOCAB"))
    }
}
