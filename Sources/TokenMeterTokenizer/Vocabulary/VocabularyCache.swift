/// The binary token-table cache: a vocab file parsed once, then memory-mapped on every later load.
///
/// A cache file is used only if its header says it was built from a file whose SHA-256 is the
/// published hash for the encoding and whose size and modification time equal the vocab file's
/// now; otherwise the source is parsed (and its hash verified) again and the cache rewritten.
/// Location: `$TOKENMETER_CACHE_DIR`, else `$XDG_CACHE_HOME/tokenmeter`, else `~/.cache/tokenmeter`.
/// A cache that cannot be written is not an error: loading simply parses the source each time.
public enum VocabularyCache {
    /// The cache directory in effect, or nil when none can be determined.
    public static func directory() -> String? {
        if let d = FileSystem.environment("TOKENMETER_CACHE_DIR") { return d }
        if let d = FileSystem.environment("XDG_CACHE_HOME") { return "\(d)/tokenmeter" }
        if let home = FileSystem.environment("HOME") { return "\(home)/.cache/tokenmeter" }
        return nil
    }

    /// Loads the token table for `encoding` from `sourcePath`, through the cache when possible.
    static func loadTable(sourcePath: String, encoding: EncodingName,
                          cacheDirectory: String? = directory()) throws(TokenizerError) -> TokenTable {
        guard let status = FileSystem.status(sourcePath) else {
            throw .vocabUnreadable(path: sourcePath, reason: "no such file")
        }
        let cachePath = cacheDirectory.map { "\($0)/\(encoding.vocabFileName)-\(encoding.vocabSHA256.prefix(16)).tmbpe" }
        if let cachePath, let table = mapped(cachePath, encoding: encoding, source: status) {
            return table
        }
        let bytes = try VocabularyFile.buildTable(path: sourcePath, encoding: encoding)
        if let cachePath { _ = FileSystem.writeAtomically(bytes, to: cachePath) }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        bytes.withUnsafeBytes { memory.copyMemory(from: $0) }
        let address = UInt(bitPattern: memory.baseAddress)
        do {
            return try TokenTable(serialized: UnsafeRawBufferPointer(memory)) {
                UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
            }
        } catch {
            fatalError("a token table just serialized does not read back: \(error)")
        }
    }

    private static func mapped(_ path: String, encoding: EncodingName, source: FileSystem.Status) -> TokenTable? {
        guard let (memory, unmap) = FileSystem.map(path) else { return nil }
        guard let table = try? TokenTable(serialized: memory, release: unmap) else {
            unmap()
            return nil
        }
        let s = table.header.source
        guard VocabularyFile.hex(s.sha256) == encoding.vocabSHA256, s.size == source.size,
              s.mtimeSeconds == source.mtimeSeconds, s.mtimeNanoseconds == source.mtimeNanoseconds else {
            return nil  // `table` unmaps on release
        }
        return table
    }
}
