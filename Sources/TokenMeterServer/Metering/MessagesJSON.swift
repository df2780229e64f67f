import Foundation
import TokenMeterClient
import TokenMeterJSON
import TokenMeterLedger

/// Collects a metered stream into one Anthropic message (`POST /v1/messages` without streaming). TokenMeter
/// still streams from the upstream, so metering and the budget cut work as for `stream: true`.
struct MessagesJSON: CollectedTypedAnswer {
    var assembler: MessageAssembler
    var cutAfter: Int?
    var failure: GatewayError?

    init(admitted: AdmittedRequest) {
        assembler = MessageAssembler(admitted: admitted)
    }

    /// The message, with the usage that was billed: the provider's counts (cache reads and writes apart) when it
    /// reported them, else TokenMeter's.
    func body(billed usage: MeteredUsage) -> Data {
        let counts: JSONValue
        if usage.billedBy == .provider, let provider = assembler.usage {
            counts = MessageAssembler.usage(provider)
        } else {
            counts = ["input_tokens": .int(usage.promptTokens), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "output_tokens": .int(usage.completionTokens)]
        }
        return Data(JSONValue.object(assembler.message(usage: counts, cut: cutAfter)).encoded())
    }
}
