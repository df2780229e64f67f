import Foundation
import TokenMeterClient
import TokenMeterJSON

/// One event a typed-event API (Responses, Anthropic Messages) writes: its type and its object.
struct AssembledEvent {
    var type: String
    var object: JSONObject

    /// As an SSE frame: `event: <type>` and `data: <object>`.
    var frame: SSEFrame { .event(type, Data(JSONValue.object(object).encoded())) }
}

/// The state behind a typed-event API's answer (``ResponseAssembler``, ``MessageAssembler``): it follows an
/// upstream that speaks the same API (native), or builds the events from chat deltas (translated).
protocol TypedEventAssembler {
    /// Whether the upstream speaks the client's API, so its events pass through.
    var native: Bool { get }
    /// Follows one upstream event that is passed through (native).
    mutating func observe(_ event: TypedEvent, usage: ChatUsage?)
    /// The part of an upstream text delta the budget still pays for, as the event written in its place; nil
    /// when nothing of it is delivered (native).
    mutating func trimmed(_ event: TypedEvent, to prefix: String) -> AssembledEvent?
    /// The events that deliver one chat delta (translated).
    mutating func translate(_ event: ChatEvent) -> [AssembledEvent]
    /// The events that deliver the text kept at a budget cut (translated).
    mutating func translateCut(_ prefix: String) -> [AssembledEvent]
}

extension TypedEventAssembler {
    /// What the client gets for one metered step, before any ending: the upstream's own event (native) or the
    /// events built from a chat delta (translated); at a cut, what of the last delta fits. The caller adds the
    /// ending of a cut.
    mutating func frames(for step: StreamPipeline.Step) -> [SSEFrame] {
        switch step {
        case .pass(let e), .usage(let e):
            guard native else { return translate(e).map(\.frame) }
            guard let typed = e.typed else { return [] }
            observe(typed, usage: e.usage)
            return [.event(typed.type, e.raw)]
        case .cut(let e, let prefix):
            guard native else { return translateCut(prefix).map(\.frame) }
            return e.typed.flatMap { trimmed($0, to: prefix) }.map { [$0.frame] } ?? []
        }
    }
}

/// A typed-event API's answer collected into one object (`stream: false`): the assembler follows every step,
/// and the adapter builds the object once the stream has ended (``CollectedAnswer/body(billed:)``).
protocol CollectedTypedAnswer: CollectedAnswer {
    associatedtype Assembler: TypedEventAssembler
    var assembler: Assembler { get set }
    /// Completion tokens at the budget cut, when the budget ended the answer.
    var cutAfter: Int? { get set }
    var failure: GatewayError? { get set }
}

extension CollectedTypedAnswer {
    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws {
        _ = assembler.frames(for: step)
        if case .cut = step { cutAfter = completionTokens }
    }

    mutating func complete() async throws {}

    mutating func fail(_ error: GatewayError) async { failure = error }
}
