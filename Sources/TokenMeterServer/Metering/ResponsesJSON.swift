import Foundation
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger

/// Collects a metered stream into one Responses object (`POST /v1/responses` without streaming). TokenMeter
/// still streams from the upstream, so metering and the budget cut work as for `stream: true`; a Responses
/// upstream's own final object is answered as it is unless the budget cut the response.
struct ResponsesJSON: CollectedTypedAnswer {
    private let admitted: AdmittedRequest
    var assembler: ResponseAssembler
    var cutAfter: Int?
    var failure: GatewayError?

    init(admitted: AdmittedRequest) {
        self.admitted = admitted
        assembler = ResponseAssembler(admitted: admitted)
    }

    /// The response object, with the usage that was billed (the provider's counts when it reported them, else
    /// TokenMeter's).
    func body(billed usage: MeteredUsage) -> Data {
        let billed = usage.billedBy == .provider ? usage.provider!
            : ProviderUsage(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens)
        let usageJSON = ResponseAssembler.usage(input: billed.promptTokens, output: billed.completionTokens,
                                                cached: billed.cachedTokens, reasoning: billed.reasoningTokens)
        var copy = assembler
        let ending: ResponseAssembler.Ending
        if let cutAfter {
            ending = .cut(completionTokens: cutAfter, usage: usageJSON)
        } else if let terminal = assembler.terminal, let response = terminal.response {
            return Data(JSONValue.object(response).encoded())
        } else {
            ending = .finished(nil, usage: usageJSON)
        }
        let events = copy.finish(ending)
        return Data((events.last?.object["response"] ?? .object([:])).encoded())
    }
}
