import Foundation
import Testing
@testable import TokenMeterCatalog

@Suite struct ImageTokenTests {
    let gpt4o = ImageTokenRule.Scheme.tiles(base: 85, perTile: 170)

    /// Examples from OpenAI's vision guide (docs/reference/CHAT-COUNTING.md#images).
    @Test func tileRuleMatchesThePublishedExamples() {
        #expect(ImageTokenCalculator.tokens(rule: gpt4o, width: 1024, height: 1024, detail: "high") == 765)
        #expect(ImageTokenCalculator.tokens(rule: gpt4o, width: 2048, height: 4096, detail: "high") == 1105)
        #expect(ImageTokenCalculator.tokens(rule: gpt4o, width: 4096, height: 8192, detail: "low") == 85)
        // Small images are not scaled up: 128×64 is one tile (community measurement, 255 tokens).
        #expect(ImageTokenCalculator.tokens(rule: gpt4o, width: 128, height: 64, detail: "high") == 255)
        // Unknown size: the high-detail maximum, 8 tiles.
        #expect(ImageTokenCalculator.tokens(rule: gpt4o, width: nil, height: nil, detail: nil) == 85 + 8 * 170)
        #expect(ImageTokenCalculator.tileCount(width: 768, height: 2048) == 8)
        #expect(ImageTokenCalculator.tileCount(width: 513, height: 512) == 2)
    }

    @Test func patchRuleMatchesThePublishedExamples() {
        #expect(ImageTokenCalculator.patchCount(width: 1024, height: 1024) == 1024)
        #expect(ImageTokenCalculator.patchCount(width: 1800, height: 2400) == 1452)
        #expect(ImageTokenCalculator.patchCount(width: 10_000, height: 10_000) <= 1536)
        let mini = ImageTokenRule.Scheme.patches(multiplier: ExactRatio(decimal: "1.62")!)
        #expect(ImageTokenCalculator.tokens(rule: mini, width: 1024, height: 1024, detail: "low") == 1659)
        #expect(ImageTokenCalculator.tokens(rule: mini, width: nil, height: nil, detail: nil) == 2489)  // ceil(1536 × 1.62)
    }

    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        var b: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for v in [width, height] { b += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        return b + [8, 6, 0, 0, 0, 0, 0, 0, 0]
    }

    @Test func readsPixelSizesFromImageHeaders() {
        #expect(ImageHeader.size(of: Self.png(width: 2048, height: 4096))! == (2048, 4096))
        #expect(ImageHeader.size(of: Array("GIF89a".utf8) + [0x40, 0x01, 0xF0, 0x00, 0, 0])! == (320, 240))
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03, 0, 0, 0]
        #expect(ImageHeader.size(of: jpeg)! == (800, 600))
        #expect(ImageHeader.size(of: Array("not an image at all".utf8)) == nil)
    }

    @Test func requestImagesAreSizedFromDataURLsOrWidthHeight() throws {
        let dataURL = "data:image/png;base64," + Data(Self.png(width: 2048, height: 4096)).base64EncodedString()
        let json = """
        {"model": "gpt-4o", "messages": [{"role": "user", "content": [
          {"type": "text", "text": "What is this?"},
          {"type": "image_url", "image_url": {"url": "\(dataURL)", "detail": "high"}},
          {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high", "width": 1024, "height": 1024}},
          {"type": "image_url", "image_url": {"url": "https://example.com/b.png", "detail": "low"}},
          {"type": "image_url", "image_url": "https://example.com/c.png"}
        ]}]}
        """
        let request = try ChatPrompt(json: Array(json.utf8))
        let catalog = try TestSupport.bundled()
        let count = ChatPromptCounter(model: catalog.model(named: "gpt-4o")!, countText: WordCounters.words).count(request)
        #expect(count.images == 1105 + 765 + 85 + 1445)
        #expect(count.approximations.contains("image size unknown (no width/height, not a data: URL): counted at the high-detail maximum of 8 tiles"))
        let none = ChatPromptCounter(model: catalog.model(named: "gpt-4")!, countText: WordCounters.words).count(request)
        #expect(none.images == 0)
        #expect(none.approximations.contains("the model takes no image input; the provider would reject the image (counted as 0)"))
    }

    @Test("a data: URL's own size wins over a declared one; without trust in declared sizes a declared remote image counts as unknown")
    func declaredSizesNeverLowerTheCount() throws {
        let dataURL = "data:image/png;base64," + Data(Self.png(width: 2048, height: 4096)).base64EncodedString()
        let json = """
        {"model": "gpt-4o", "messages": [{"role": "user", "content": [
          {"type": "image_url", "image_url": {"url": "\(dataURL)", "detail": "high", "width": 1, "height": 1}},
          {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high", "width": 1, "height": 1}}
        ]}]}
        """
        let request = try ChatPrompt(json: Array(json.utf8))
        let model = try #require(try TestSupport.bundled().model(named: "gpt-4o"))
        // The data URL is 2048x4096 whatever it declares (1,105 tokens); the declared 1x1 remote image is 85 + 170.
        let trusting = ChatPromptCounter(model: model, countText: WordCounters.words).count(request)
        #expect(trusting.images == 1105 + 255)
        let gateway = ChatPromptCounter(model: model, trustsDeclaredImageSizes: false, countText: WordCounters.words).count(request)
        #expect(gateway.images == 1105 + 1445)
        #expect(gateway.approximations.contains("a declared image size is not used: the image counts as one of unknown size"))
    }

    @Test("a part the counter cannot size is found with its path")
    func uncountableParts() throws {
        let json = """
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [
          {"type": "text", "text": "Summarise"}, {"type": "file", "file": {"file_id": "file-abc"}}
        ]}]}
        """
        let part = try #require(try ChatPrompt(json: Array(json.utf8)).firstUncountablePart)
        #expect(part.path == "messages[1].content[1]" && part.type == "file")
        #expect(try ChatPrompt(json: Array(#"{"messages": [{"role": "user", "content": "hi"}]}"#.utf8)).firstUncountablePart == nil)
    }
}

