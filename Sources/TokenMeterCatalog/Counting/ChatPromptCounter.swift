/// Counts the prompt tokens of a chat request for one catalog model, the way OpenAI bills them
/// (docs/reference/CHAT-COUNTING.md):
/// - 3 tokens per message, +1 per `name`, every value encoded (role included), +3 reply priming;
/// - `content` as a string or as parts (text parts encoded one by one, images by tile/patch rules);
/// - tool definitions by the cookbook heuristic.
///
/// Text is counted by `countText`, the model's encoding (passed in so this type does not depend on
/// how encodings are loaded). Every approximation is recorded with its reason.
public struct ChatPromptCounter: Sendable {
    /// Framing tokens per message.
    public static let tokensPerMessage = 3
    /// Extra tokens when a message has a `name`.
    public static let tokensPerName = 1
    /// Tokens priming the reply (`<|start|>assistant<|message|>`).
    public static let replyPriming = 3

    /// The model being counted for.
    public let model: CatalogModel
    /// Tokens of ordinary text in the model's (or the stand-in) encoding.
    public let countText: @Sendable (String) -> Int

    /// Whether an image size the client only declared (`width`/`height` in `image_url`) is used. The estimate
    /// CLI uses it (the user describes their own images); the gateway does not, since a client paying by the
    /// token could declare every image 1x1: an undeclared remote image counts at the rule's maximum.
    public let trustsDeclaredImageSizes: Bool

    /// Counts of messages seen before, shared across requests (nil: every message is counted afresh).
    public let cache: MessageCountCache?
    /// What a message's count depends on besides the message: the model (its encoding and image rule) and the
    /// image-size policy; prefixed to every cache key.
    private let cacheContext: [UInt8]

    public init(model: CatalogModel, trustsDeclaredImageSizes: Bool = true, cache: MessageCountCache? = nil,
                countText: @escaping @Sendable (String) -> Int) {
        self.model = model
        self.trustsDeclaredImageSizes = trustsDeclaredImageSizes
        self.countText = countText
        self.cache = cache
        cacheContext = Array("\(model.name)\u{0}\(model.encoding.encodingName)\u{0}\(trustsDeclaredImageSizes)\u{0}".utf8)
    }

    /// Prompt tokens of `request` for `model`.
    public func count(_ request: ChatPrompt) -> PromptCount {
        var result = PromptCount()
        var notes = NoteList()
        addModelNotes(&notes)

        for message in request.messages {
            // A cached message adds what it added when it was first counted, notes included, in message order.
            let key = cache.map { _ in message.cacheKey(context: cacheContext) }
            let share: MessageCountCache.Entry
            if let key, let cached = cache?.entry(for: key) {
                share = cached
            } else {
                share = count(message)
                if let key { cache?.store(share, for: key) }
            }
            result.text += share.text
            result.framing += share.framing
            result.images += share.images
            for note in share.notes { notes.add(note) }
        }
        result.framing += ChatPromptCounter.replyPriming

        if !request.tools.isEmpty {
            result.tools = ToolTokenHeuristic.forEncoding(model.encoding.encodingName).tokens(for: request.tools, countText: countText)
            var why = "tool definitions counted by the cookbook heuristic (matches the API on its weather example only)"
            if request.tools.contains(where: \.hasNestedSchema) { why += "; nested object/array schemas are not modelled" }
            notes.add(why)
        }
        for field in request.uncountedFields {
            notes.add("\(field) adds prompt tokens that are not counted")
        }
        result.approximations = notes.items
        raiseByMargin(&result)
        return result
    }

    /// Adds the model's estimate margin to a stand-in count, with a note saying so.
    private func raiseByMargin(_ result: inout PromptCount) {
        guard model.estimateMarginPercent > 0 else { return }
        result.margin = model.localCount(result.tokens) - result.tokens
        result.approximations.append("raised by \(model.estimateMarginPercent)% (estimate_margin_percent), meant as an upper bound of the provider's count")
    }

    /// One message's share of a prompt count: 3 framing tokens (+1 for a `name`), every value encoded.
    private func count(_ message: PromptMessage) -> MessageCountCache.Entry {
        var result = PromptCount()
        var notes = NoteList()
        result.framing += ChatPromptCounter.tokensPerMessage
        for (key, value) in message.members {
            switch value {
            case .text(let s):
                result.text += countText(s)
                if !["role", "content", "name"].contains(key) {
                    notes.add("field \"\(key)\" counted as text by the cookbook rule (every value is encoded); how the API renders it is undocumented")
                }
            case .null:
                break
            case .parts(let parts):
                countParts(parts, into: &result, notes: &notes)
            case .toolCalls(let calls):
                for call in calls { result.text += countText(call.name) + countText(call.arguments) }
                notes.add("tool_calls in the history counted as function name + arguments text; the API's rendering is undocumented")
            case .other(let json):
                result.text += countText(json)
                notes.add("field \"\(key)\" is not a string; counted as its JSON text")
            }
            if key == "name", case .text = value { result.framing += ChatPromptCounter.tokensPerName }
        }
        return MessageCountCache.Entry(text: result.text, framing: result.framing, images: result.images, notes: notes.items)
    }

    /// Prompt tokens of plain `text`: as the content of one user message (what sending it costs),
    /// or `raw` as bare text with no chat framing.
    public func count(text: String, raw: Bool) -> PromptCount {
        guard raw else { return count(ChatPrompt(messages: [PromptMessage(role: "user", content: text)])) }
        var notes = NoteList()
        addEncodingNote(&notes)
        var result = PromptCount(text: countText(text), approximations: notes.items)
        raiseByMargin(&result)
        return result
    }

    private func addEncodingNote(_ notes: inout NoteList) {
        if case .approximate(let using) = model.encoding {
            notes.add("the model's own tokenizer is not available; counted with \(using) as a stand-in")
        }
    }

    private func addModelNotes(_ notes: inout NoteList) {
        addEncodingNote(&notes)
        if model.framingVerifiedBy == nil {
            notes.add("chat framing (3 per message, +1 per name, +3 priming) is the cookbook rule, not verified against this model's usage")
        }
    }

    private func countParts(_ parts: [PromptMessage.ContentPart], into result: inout PromptCount, notes: inout NoteList) {
        let textParts = parts.filter { if case .text = $0 { true } else { false } }.count
        if textParts > 1 {
            notes.add("content given as \(textParts) text parts, counted part by part (how the API joins parts is undocumented)")
        }
        for part in parts {
            switch part {
            case .text(let s):
                result.text += countText(s)
            case .image(let image):
                result.images += imageTokens(image, notes: &notes)
            case .other(let type):
                notes.add("content part of type \"\(type)\" is not counted")
            }
        }
    }

    private func imageTokens(_ image: ImageInput, notes: inout NoteList) -> Int {
        guard let rule = model.image else {
            notes.add("the model takes no image input; the provider would reject the image (counted as 0)")
            return 0
        }
        if let note = rule.note { notes.add("image rule: \(note)") }
        notes.add("images counted by OpenAI's published tile/patch rule; any per-image wrapper tokens are undocumented")
        var image = image
        if image.sizeIsDeclared, !trustsDeclaredImageSizes {
            notes.add("a declared image size is not used: the image counts as one of unknown size")
            image.width = nil
            image.height = nil
        }
        let sizeKnown = image.width != nil && image.height != nil
        switch rule.scheme {
        case .tiles:
            if image.detail != "low" {
                if !sizeKnown {
                    notes.add("image size unknown (no width/height, not a data: URL): counted at the high-detail maximum of \(ImageTokenCalculator.maxTiles) tiles")
                } else if image.detail != "high" {
                    notes.add("image detail \"\(image.detail ?? "auto")\" counted as high (the API may choose low)")
                }
            }
        case .patches:
            if !sizeKnown {
                notes.add("image size unknown (no width/height, not a data: URL): counted at the maximum of \(ImageTokenCalculator.maxPatches) patches")
            }
        }
        return ImageTokenCalculator.tokens(rule: rule.scheme, width: image.width, height: image.height, detail: image.detail)
    }
}
