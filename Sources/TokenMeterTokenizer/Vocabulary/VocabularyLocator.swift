/// Finds the directory holding the bundled `.tiktoken` files, so the CLI needs no flag.
///
/// Order: `$TOKENMETER_VOCAB` (if set, it must hold the file); `<exe dir>/../share/tokenmeter/vocab`
/// (`make install`); `vocab/` in the executable's directory or any parent of it (a `swift run` or
/// `.build/release` binary inside the repository); `./vocab` in the working directory.
public enum VocabularyLocator {
    /// Environment variable naming the vocab directory; overrides every other place.
    public static let environmentVariable = "TOKENMETER_VOCAB"

    /// The full path of `file` in the first vocab directory that has it.
    public static func path(of file: String) throws(TokenizerError) -> String {
        var searched: [String] = []
        if let dir = FileSystem.environment(environmentVariable) {
            let p = "\(dir)/\(file)"
            if FileSystem.exists(p) { return p }
            throw .vocabNotFound(file: file, searched: ["\(dir) (from \(environmentVariable))"])
        }
        for dir in candidateDirectories() {
            let p = "\(dir)/\(file)"
            if FileSystem.exists(p) { return p }
            searched.append(dir)
        }
        throw .vocabNotFound(file: file, searched: searched)
    }

    static func candidateDirectories() -> [String] {
        var dirs: [String] = []
        if let exe = FileSystem.executablePath(), let slash = exe.lastIndex(of: "/") {
            var dir = String(exe[..<slash])
            dirs.append("\(dir)/../share/tokenmeter/vocab")
            for _ in 0..<6 {
                dirs.append("\(dir)/vocab")
                guard let up = dir.lastIndex(of: "/"), up != dir.startIndex else { break }
                dir = String(dir[..<up])
            }
        }
        dirs.append("vocab")
        return dirs
    }
}
