import Foundation

/// Writes `yaml` to a fresh file in the temporary directory, runs `body` with its path, and deletes it.
func withConfigurationFile<T>(_ yaml: String, _ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tm-config-\(UUID().uuidString).yaml").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return try body(path)
}
