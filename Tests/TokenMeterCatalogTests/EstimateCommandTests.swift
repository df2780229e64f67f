import Foundation
import Testing
@testable import TokenMeterCatalog
import TokenMeterJSON

/// Runs the built `tokenmeter` binary (next to the test binary in .build/debug) as a subprocess.
@Suite struct EstimateCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        // On macOS the test binary sits inside an .xctest bundle.
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("tokenmeter")
    }

    func run(_ args: [String], stdin: String? = nil) throws -> Run {
        let path = Self.binary.path
        try #require(FileManager.default.isExecutableFile(atPath: path), "build the CLI first: swift build (looked for \(path))")
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["estimate"] + args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        // A child that exits before reading its input must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func rows(_ json: String) throws -> [JSONValue] {
        guard case .array(let rows)? = try JSONParser.parse(json)["rows"] else { throw RequestError.missingField(path: "rows") }
        return rows
    }

    @Test func cookbookCountsThroughTheCommandLine() throws {
        let six = TestSupport.fixture("cookbook-six-messages.json"), tool = TestSupport.fixture("cookbook-weather-tool.json")
        let r = try run(["--request", six, "--model", "gpt-3.5-turbo", "--model", "gpt-4", "--model", "gpt-4o", "--model", "gpt-4o-mini", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try rows(r.stdout).map { $0["prompt_tokens"] } == [.number("129"), .number("129"), .number("124"), .number("124")])
        #expect(try rows(r.stdout).allSatisfy { $0["exact"] == .bool(true) })
        let t = try run(["--request", tool, "--model", "gpt-3.5-turbo", "--model", "gpt-4", "--model", "gpt-4o", "--model", "gpt-4o-mini", "--json"])
        #expect(try rows(t.stdout).map { $0["prompt_tokens"] } == [.number("105"), .number("105"), .number("101"), .number("101")])
    }

    @Test func tableOutputForOneRequest() throws {
        let r = try run(["--request", TestSupport.fixture("cookbook-six-messages.json"), "--model", "gpt-4o-mini"])
        #expect(r.status == 0)
        #expect(r.stdout == """
            MODEL        PROMPT  MAX OUT  PROMPT COST  WORST CASE  CONTEXT      COUNT
            gpt-4o-mini     124        1   $0.0000186  $0.0000192  fits 128000  exact

            """)
    }

    @Test func textFromStandardInputUsesMaxOutput() throws {
        let r = try run(["--model", "gpt-4o", "--max-output", "100", "--json"], stdin: "tiktoken is great!")
        let row = try #require(try rows(r.stdout).first)
        #expect(row["prompt_tokens"] == .number("13") && row["max_output_tokens"] == .number("100"))
        #expect(row["worst_case_cost"] == .string("0.0010325"))  // 13 × $2.50/1M + 100 × $10/1M
    }

    @Test func exitCodesFollowSysexits() throws {
        let unknown = try run(["--model", "gpt-4o-mni"], stdin: "hi")
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown model \"gpt-4o-mni\"; closest: gpt-4o-mini"))
        let bad = try TestSupport.temporaryFile("{\n  \"model\": \"gpt-4o\",\n  \"messages\": [}\n", name: "bad.json")
        let malformed = try run(["--request", bad])
        #expect(malformed.status == 65)
        #expect(malformed.stderr.contains("line 3, column 16: unexpected '}', expected a value"), "\(malformed.stderr)")
        let missingField = try TestSupport.temporaryFile(#"{"model": "gpt-4o"}"#)
        #expect(try run(["--request", missingField]).stderr.contains("missing field \"messages\""))
        #expect(try run(["--request", "/nonexistent/request.json"]).status == 66)
        #expect(try run(["--catalog", "/nonexistent/catalog.json", "--model", "gpt-4o"], stdin: "x").status == 66)
        #expect(try run([], stdin: "no model given").status == 64)
        #expect(try run(["--compare", "--model", "gpt-4o"], stdin: "x").status == 64)
        #expect(try run(["--model", "gpt-4o", "--max-output", "0"], stdin: "x").status == 64)
        let notText = try run(["--model", "gpt-4o"], stdin: "caf\u{FFFD}")  // valid UTF-8: fine
        #expect(notText.status == 0)
        let badCatalog = try TestSupport.temporaryFile(#"{"format": 1, "models": [{"name": "x", "pirce": 1}]}"#)
        let bc = try run(["--catalog", badCatalog, "--model", "gpt-4o"], stdin: "x")
        #expect(bc.status == 65 && bc.stderr.contains("models[0] \"x\", field \"pirce\": unknown field"))
    }

    @Test func overTheContextWindowIsExitZeroOrOneWithStrict() throws {
        let long = String(repeating: "token ", count: 9000)
        let plain = try run(["--model", "gpt-4", "--json"], stdin: long)
        #expect(plain.status == 0)
        #expect(try JSONParser.parse(plain.stdout)["over_context"] == .bool(true))
        let strict = try run(["--model", "gpt-4", "--strict"], stdin: long)
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("exceeds gpt-4's context window of 8192 tokens; the provider would reject it"))
    }

    @Test func compareAndUserCatalog() throws {
        let user = try TestSupport.temporaryFile(#"{"format": 1, "models": [{"name": "gpt-4o", "price": {"input": "1", "output": "2", "source": "test", "date": "2026-11-25"}}]}"#)
        let r = try run(["--compare", "--catalog", user, "--json", "--max-output", "10"], stdin: "hello")
        let rows = try rows(r.stdout)
        #expect(rows.count == (try TestSupport.bundled()).pricedModels.count)
        let gpt4o = try #require(rows.first { $0["model"] == .string("gpt-4o") })
        #expect(gpt4o["price_source"] == .string("test"))
        #expect(gpt4o["worst_case_cost"] == .string("0.000028"))  // 8 tokens × $1/1M + 10 × $2/1M
    }

    @Test func manyFilesGetRowsAndTotals() throws {
        let a = try TestSupport.temporaryFile("first prompt", name: "a.txt")
        let dir = URL(fileURLWithPath: a).deletingLastPathComponent()
        try "second prompt, a little longer".write(to: dir.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        let r = try run([dir.path, "--model", "gpt-4o", "--max-output", "1"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("TOTAL") && r.stdout.contains("a.txt") && r.stdout.contains("b.txt"))
    }
}
