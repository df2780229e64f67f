/// Prompt tokens for one input image by OpenAI's published rules ("images-vision";
/// docs/reference/CHAT-COUNTING.md#images).
public enum ImageTokenCalculator {
    /// Most tiles a high-detail image can have: it fits in 2048×2048 and its short side is at most
    /// 768, so 768×2048 → 2 × 4 tiles.
    public static let maxTiles = 8
    /// Patch models never use more than this many 32 px patches.
    public static let maxPatches = 1536

    /// Tokens for an image under `rule`. `width`/`height` in pixels (nil when unknown); `detail` as
    /// given in the request. Unknown size counts the rule's maximum.
    public static func tokens(rule: ImageTokenRule.Scheme, width: Int?, height: Int?, detail: String?) -> Int {
        switch rule {
        case .tiles(let base, let perTile):
            if detail == "low" { return base }
            let tiles = width.flatMap { w in height.map { h in tileCount(width: w, height: h) } } ?? maxTiles
            return base + tiles * perTile
        case .patches(let multiplier):
            let patches = width.flatMap { w in height.map { h in patchCount(width: w, height: h) } } ?? maxPatches
            return multiplier.multiplyRoundingUp(patches)
        }
    }

    /// 512 px tiles for a high-detail image: scale to fit 2048×2048, then scale the short side down
    /// to 768 (never up), then `ceil(w/512) × ceil(h/512)`. Computed on the exact scaled size (a
    /// fraction), so no pixel rounding can lose a tile.
    public static func tileCount(width w: Int, height h: Int) -> Int {
        let long = max(w, h), short = min(w, h)
        // Scale factor num/den, applied to both sides.
        var num = 1, den = 1
        if long > 2048 { num = 2048; den = long }
        if short * num > 768 * den { num = 768; den = short }  // the two steps compose to 768/short
        func tilesAlong(_ side: Int) -> Int { (side * num + den * 512 - 1) / (den * 512) }
        return tilesAlong(w) * tilesAlong(h)
    }

    /// 32 px patches for patch models: `ceil(w/32) × ceil(h/32)`; above 1536 the image is shrunk
    /// to fit 1536 patches (with the guide's adjustment so whole patches fit along the limiting
    /// side), then capped at 1536. Geometry, not money, so floating point is fine here.
    public static func patchCount(width w: Int, height h: Int) -> Int {
        func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
        let raw = ceilDiv(w, 32) * ceilDiv(h, 32)
        guard raw > maxPatches else { return raw }
        let wd = Double(w), hd = Double(h)
        var r = (32.0 * 32.0 * Double(maxPatches) / (wd * hd)).squareRoot()
        let fw = wd * r / 32, fh = hd * r / 32
        r *= min(fw.rounded(.down) / fw, fh.rounded(.down) / fh)
        // A tiny tolerance so that 33.0000000001 patches (floating error) counts as 33.
        func patches(_ side: Double) -> Int { Int((side * r / 32 - 1e-9).rounded(.up)) }
        return min(patches(wd) * patches(hd), maxPatches)
    }
}
