/// Reads an image's pixel size from its file header, without decoding pixels.
enum ImageHeader {
    /// Width and height of a PNG, GIF, JPEG or WebP image, or nil for anything else.
    static func size(of b: [UInt8]) -> (width: Int, height: Int)? {
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func le24(_ i: Int) -> Int { le16(i) | Int(b[i + 2]) << 16 }
        // PNG: signature, then the IHDR chunk with big-endian width and height.
        if b.count >= 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return positive(be32(16), be32(20))
        }
        // GIF87a / GIF89a: little-endian logical screen size.
        if b.count >= 10, b.starts(with: Array("GIF8".utf8)) { return positive(le16(6), le16(8)) }
        // WebP: RIFF container with a VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk.
        if b.count >= 30, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) {
            switch String(decoding: b[12..<16], as: UTF8.self) {
            case "VP8X": return positive(le24(24) + 1, le24(27) + 1)
            case "VP8L":
                let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
                return positive((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            case "VP8 ": return positive(le16(26) & 0x3FFF, le16(28) & 0x3FFF)
            default: return nil
            }
        }
        // JPEG: walk the marker segments to the first start-of-frame (SOF0...SOF15 except DHT,
        // JPG and DAC), which holds height then width.
        if b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 {
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }
                if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                    return positive(be16(i + 7), be16(i + 5))
                }
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
                i += 2 + be16(i + 2)
            }
        }
        return nil
    }

    private static func positive(_ w: Int, _ h: Int) -> (width: Int, height: Int)? {
        w > 0 && h > 0 ? (w, h) : nil
    }
}
