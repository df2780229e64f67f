import FuzzSupport
import TokenMeterCatalog
import TokenMeterTokenizer
@testable import TokenMeterServer

// Fuzz target for what `POST /v1/chat/completions` does with a body before it calls anyone:
// `ChatIntake` (UTF-8 check, the catalog's JSON parser, the chat request checks, the client's JSON
// view of the body), then the pre-flight's model resolution and chat-rule prompt count. Checks:
//  1. a refused body is always a 400 `invalid_request_error` (a bad body must never look like a server fault);
//  2. an accepted body has a non-empty model, at least one message, an output cap within 1...ceiling,
//     and the upstream body names the same model;
//  3. counting the prompt of an accepted body never traps, and gives non-negative parts with at
//     least the reply priming.
// The whole input is the body (no header byte): a seed corpus of real request bodies works as is.

private let maxTokensCeiling = 100_000
private let catalog: ModelCatalog = {
    do { return try ModelCatalog.bundled() } catch { fatalError("bundled catalog: \(error)") }
}()
private let fallbackModel = "gpt-4o"

private func fuzzChatRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let intake: ChatIntake
    do {
        intake = try ChatIntake(bytes: bytes, maxTokensCeiling: maxTokensCeiling)
    } catch {
        fuzzCheck(error.status == .badRequest && error.type == "invalid_request_error",
                  "refused with \(error.status) \(error.type): \(error.message)")
        return 0
    }
    fuzzCheck(!intake.model.isEmpty, "accepted an empty model")
    fuzzCheck(intake.body.model == intake.model, "upstream body model \(String(describing: intake.body.model)) != \(intake.model)")
    fuzzCheck(!intake.counted.messages.isEmpty, "accepted a request without messages")
    if let cap = intake.counted.maxOutputTokens {
        fuzzCheck((1...maxTokensCeiling).contains(cap), "accepted an output cap of \(cap)")
    }

    let resolved = (try? catalog.resolve(intake.model)) ?? (try? catalog.resolve(fallbackModel))
    guard let model = resolved?.model else { fatalError("\(fallbackModel) is not in the bundled catalog") }
    let encoding: Encoding
    do { encoding = try Encoding.named(EncodingName.named(model.encoding.encodingName)) } catch {
        fatalError("tokenizer for \(model.name): \(error)")
    }
    let count = ChatPromptCounter(model: model, countText: { encoding.count($0) }).count(intake.counted)
    fuzzCheck(count.text >= 0 && count.framing >= 0 && count.images >= 0 && count.tools >= 0, "negative part in \(count)")
    fuzzCheck(count.tokens >= ChatPromptCounter.replyPriming, "prompt of \(count.tokens) tokens is less than the reply priming")
    return 0
}

runFuzzer { fuzzChatRequest($0, $1) }
