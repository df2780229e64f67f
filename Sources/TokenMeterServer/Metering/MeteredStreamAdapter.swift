import Foundation
import Hummingbird
import TokenMeterClient
import TokenMeterLedger

/// A wire format on top of ``MeteredStream``: it turns the driver's metered steps into what the client
/// receives (chat-completion SSE, one chat-completion JSON object, ...). The driver decides what may be
/// delivered, when the stream ends and what is billed; an adapter only writes.
protocol MeteredStreamAdapter {
    /// Writes what the client gets for one metered step. A `.cut` step is the last one: the adapter writes
    /// the trimmed text and ends its answer (a cut answer ends with `length`). `completionTokens` is the
    /// metered total after the step. Throws when the client can no longer be written to.
    mutating func write(_ step: StreamPipeline.Step, completionTokens: Int) async throws

    /// The upstream ended normally: ends the answer. Throws when the client can no longer be written to.
    mutating func complete() async throws

    /// The stream stops early with an error the client should see: an upstream failure mid-stream, or the
    /// server shutting down. Best effort; the client may be gone.
    mutating func fail(_ error: GatewayError) async

    /// Sends what the adapter has written but holds back (``SSEOutput``): the driver calls it after a step
    /// when no further upstream event is waiting, and before a cut ends the stream. Throws when the client can
    /// no longer be written to.
    mutating func flush() async throws
}

extension MeteredStreamAdapter {
    /// An answer collected whole holds everything until the end.
    mutating func flush() async throws {}
}

/// An adapter that collects the whole answer into one JSON object (`stream: false`).
protocol CollectedAnswer: MeteredStreamAdapter {
    /// The error to answer with instead of the object (an upstream failure, a shutdown).
    var failure: GatewayError? { get }
    /// The answer, with the usage that was billed.
    func body(billed usage: MeteredUsage) -> Data
}

/// An adapter that writes events to the response body as the stream goes (`stream: true`).
protocol StreamedAnswer: MeteredStreamAdapter, SendableMetatype {
    /// The response body (sent at each flush); the route finishes it after the driver returns.
    var output: SSEOutput { get set }
}

extension StreamedAnswer {
    mutating func flush() async throws {
        try await output.flush()
    }
}
