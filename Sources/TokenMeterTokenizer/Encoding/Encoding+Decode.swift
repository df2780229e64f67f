extension Encoding {
    /// The bytes that `ids` stand for (special ids give their text). The bytes of a slice of ids
    /// need not be valid UTF-8: a token can end inside a multi-byte character.
    public func decode(_ ids: [Int]) throws(TokenizerError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            if let bytes = table.bytes(ofRank: id) {
                out.append(contentsOf: bytes)
            } else if let special = specialTexts[id] {
                out.append(contentsOf: special.utf8)
            } else {
                throw .invalidTokenID(id, vocabularySize: vocabularySize)
            }
        }
        return out
    }

    /// The text that `ids` stand for, or nil when their bytes are not valid UTF-8.
    public func decodeString(_ ids: [Int]) throws(TokenizerError) -> String? {
        let bytes = try decode(ids)
        return UTF8Validation.firstInvalidOffset(in: bytes) == nil ? String(decoding: bytes, as: UTF8.self) : nil
    }
}
