/// Where a serialized token table came from: the `.tiktoken` file's identity at build time.
struct TokenTableSource: Equatable {
    /// SHA-256 of the source file, verified against the published hash before the table was built.
    var sha256: [UInt8]
    /// Size of the source file in bytes.
    var size: UInt64
    /// Modification time of the source file (seconds and nanoseconds since the epoch).
    var mtimeSeconds: Int64
    var mtimeNanoseconds: Int64
}

/// Why bytes are not a usable serialized token table.
enum TokenTableFormatError: Error {
    case badMagic, unsupportedVersion(UInt32), truncated
}

/// The fixed 128-byte header of a serialized `TokenTable`.
struct TokenTableHeader {
    static let size = 128
    static let magic: [UInt8] = Array("TMBPE\0\0\0".utf8)
    /// Bumped whenever the layout or `TokenHash` changes, so stale caches are rebuilt.
    static let formatVersion: UInt32 = 1

    var tokenCount: UInt32
    var slotCount: UInt32
    var blobSize: UInt64
    var source: TokenTableSource

    init(tokenCount: UInt32, slotCount: UInt32, blobSize: UInt64, source: TokenTableSource) {
        self.tokenCount = tokenCount
        self.slotCount = slotCount
        self.blobSize = blobSize
        self.source = source
    }

    init(reading raw: UnsafeRawBufferPointer) throws(TokenTableFormatError) {
        guard raw.count >= Self.size else { throw .truncated }
        guard Array(raw[0..<8]) == Self.magic else { throw .badMagic }
        let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        tokenCount = raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        slotCount = raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
        blobSize = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        guard slotCount.nonzeroBitCount == 1 else { throw .truncated }
        source = TokenTableSource(
            sha256: Array(raw[56..<88]),
            size: raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self),
            mtimeSeconds: raw.loadUnaligned(fromByteOffset: 40, as: Int64.self),
            mtimeNanoseconds: raw.loadUnaligned(fromByteOffset: 48, as: Int64.self))
    }

    func write(to raw: UnsafeMutableRawBufferPointer) {
        for (i, b) in Self.magic.enumerated() { raw[i] = b }
        raw.storeBytes(of: Self.formatVersion, toByteOffset: 8, as: UInt32.self)
        raw.storeBytes(of: tokenCount, toByteOffset: 12, as: UInt32.self)
        raw.storeBytes(of: slotCount, toByteOffset: 16, as: UInt32.self)
        raw.storeBytes(of: blobSize, toByteOffset: 24, as: UInt64.self)
        raw.storeBytes(of: source.size, toByteOffset: 32, as: UInt64.self)
        raw.storeBytes(of: source.mtimeSeconds, toByteOffset: 40, as: Int64.self)
        raw.storeBytes(of: source.mtimeNanoseconds, toByteOffset: 48, as: Int64.self)
        for (i, b) in source.sha256.prefix(32).enumerated() { raw[56 + i] = b }
    }
}
