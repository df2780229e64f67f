import Foundation
@testable import TokenMeterCatalog

/// Paths and helpers shared by the catalog tests.
enum TestSupport {
    /// The package root, found from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fixture file's path.
    static func fixture(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/TokenMeterCatalogTests/Fixtures/\(name)").path
    }

    static func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture(name))))
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, name: String = "file.json") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tm-catalog-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The bundled catalog (must load).
    static func bundled() throws -> ModelCatalog { try ModelCatalog.bundled() }
}

/// A stand-in tokenizer for rule tests: one token per space-separated word.
struct WordCounters: TextCounterProvider {
    func counter(forEncoding name: String) throws(EstimateError) -> @Sendable (String) -> Int {
        { WordCounters.words($0) }
    }

    static func words(_ s: String) -> Int { s.split(separator: " ").count }
}
