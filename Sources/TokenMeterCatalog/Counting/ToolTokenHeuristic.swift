/// The OpenAI cookbook's estimate of the prompt tokens that function tool definitions add
/// (`num_tokens_for_tools`; docs/reference/CHAT-COUNTING.md#tool-definitions). It reproduces the
/// API on the cookbook's weather example (105 on gpt-4 / gpt-3.5-turbo, 101 on gpt-4o /
/// gpt-4o-mini) but is a heuristic: nested schemas, arrays and `required` are not modelled.
public struct ToolTokenHeuristic: Sendable, Equatable {
    /// Tokens opening each function.
    public var functionInit: Int
    /// Tokens opening the property list of a function that has properties.
    public var propertiesInit = 3
    /// Tokens per property.
    public var propertyKey = 3
    /// Tokens for a property that has an enum (negative: the cookbook's -3).
    public var enumInit = -3
    /// Tokens per enum value, on top of the value's own tokens.
    public var enumItem = 3
    /// Tokens once after all functions.
    public var functionsEnd = 12

    /// The cookbook's constants for gpt-4o / gpt-4o-mini, used for every o200k model.
    public static let o200k = ToolTokenHeuristic(functionInit: 7)
    /// The cookbook's constants for gpt-4 / gpt-3.5-turbo, used for every cl100k model.
    public static let cl100k = ToolTokenHeuristic(functionInit: 10)

    /// The constants for a model counted with `encodingName`.
    public static func forEncoding(_ encodingName: String) -> ToolTokenHeuristic {
        encodingName == "cl100k_base" ? .cl100k : .o200k
    }

    /// Tokens added by `tools`, counting text with `countText` (tokens of ordinary text).
    public func tokens(for tools: [ToolDefinition], countText: (String) -> Int) -> Int {
        guard !tools.isEmpty else { return 0 }
        var total = 0
        for tool in tools {
            total += functionInit + countText(tool.name + ":" + ToolTokenHeuristic.droppingFinalPeriod(tool.description))
            guard !tool.properties.isEmpty else { continue }
            total += propertiesInit
            for p in tool.properties {
                total += propertyKey
                if let values = p.enumValues {
                    total += enumInit
                    for v in values { total += enumItem + countText(v) }
                }
                total += countText("\(p.name):\(p.type):\(ToolTokenHeuristic.droppingFinalPeriod(p.description))")
            }
        }
        return total + functionsEnd
    }

    static func droppingFinalPeriod(_ s: String) -> String {
        s.hasSuffix(".") ? String(s.dropLast()) : s
    }
}
