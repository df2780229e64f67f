import Foundation

/// One thing to estimate: plain text (a prompt) or an OpenAI chat request body, from a file,
/// standard input or memory.
public enum EstimateInput: Sendable, Equatable {
    /// A UTF-8 text file holding a prompt.
    case textFile(path: String)
    /// A JSON chat request body file.
    case requestFile(path: String)
    /// Prompt text already in memory; `name` labels it in the output (e.g. "stdin").
    case text(name: String, String)
    /// A request body already in memory.
    case request(name: String, [UInt8])

    /// The label shown in output rows.
    public var name: String {
        switch self {
        case .textFile(let p), .requestFile(let p): p
        case .text(let n, _), .request(let n, _): n
        }
    }

    /// Expands `paths` into file inputs: a file stays itself, a folder becomes its regular files
    /// (recursively, sorted by path, hidden names skipped); an empty folder is an error.
    public static func files(_ paths: [String], asRequests: Bool) throws(EstimateError) -> [EstimateInput] {
        var out: [EstimateInput] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .inputNotFound(path: path) }
            var files = [path]
            if isDirectory.boolValue {
                guard let walker = fm.enumerator(atPath: path) else { throw .inputUnreadable(path: path, reason: "cannot list the folder") }
                files = []
                while let rel = walker.nextObject() as? String {
                    if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                    let full = (path as NSString).appendingPathComponent(rel)
                    var dir: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { files.append(full) }
                }
                files.sort()
                guard !files.isEmpty else { throw .emptyFolder(path: path) }
            }
            out += files.map { asRequests ? .requestFile(path: $0) : .textFile(path: $0) }
        }
        return out
    }

    /// The input's prompt, read and parsed.
    func load() throws(EstimateError) -> PromptSource {
        switch self {
        case .text(_, let s):
            return .text(s)
        case .request(let name, let bytes):
            do { return .request(try ChatPrompt(json: bytes)) } catch { throw .badRequest(input: name, error) }
        case .textFile(let path):
            guard let s = String(validating: try EstimateInput.read(path), as: UTF8.self) else { throw .notUTF8(input: path) }
            return .text(s)
        case .requestFile(let path):
            let bytes = try EstimateInput.read(path)
            do { return .request(try ChatPrompt(json: bytes)) } catch { throw .badRequest(input: path, error) }
        }
    }

    private static func read(_ path: String) throws(EstimateError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .inputNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .inputUnreadable(path: path, reason: "permission denied or I/O error") }
        return [UInt8](data)
    }
}

/// A loaded input.
enum PromptSource: Sendable {
    case text(String)
    case request(ChatPrompt)
}
