import TokenMeterJSON

/// A function tool offered to the model: what the cookbook's tool heuristic reads from it.
public struct ToolDefinition: Sendable, Equatable {
    /// One property of the function's `parameters.properties`, in order.
    public struct Property: Sendable, Equatable {
        public var name: String
        /// `type` as text (`"string"`); a non-string type is kept as compact JSON.
        public var type: String
        public var description: String
        /// The `enum` values as text, or nil when the property has no enum.
        public var enumValues: [String]?

        public init(name: String, type: String, description: String = "", enumValues: [String]? = nil) {
            self.name = name
            self.type = type
            self.description = description
            self.enumValues = enumValues
        }
    }

    public var name: String
    public var description: String
    public var properties: [Property]
    /// True when the schema has nested objects or arrays, which the heuristic ignores.
    public var hasNestedSchema: Bool

    public init(name: String, description: String = "", properties: [Property] = [], hasNestedSchema: Bool = false) {
        self.name = name
        self.description = description
        self.properties = properties
        self.hasNestedSchema = hasNestedSchema
    }

    /// Reads `tools` (only `type: "function"` entries count) and the legacy `functions` array.
    static func parseAll(from root: JSONValue) throws(RequestError) -> [ToolDefinition] {
        var out: [ToolDefinition] = []
        if let tools = root["tools"], tools != .null {
            guard case .array(let items) = tools else { throw .invalidField(path: "tools", problem: "expected an array, found \(tools.typeName)") }
            for (i, item) in items.enumerated() {
                guard case .object = item else { throw .invalidField(path: "tools[\(i)]", problem: "expected an object, found \(item.typeName)") }
                if case .string(let type)? = item["type"], type != "function" { continue }
                guard let fn = item["function"] else { throw .missingField(path: "tools[\(i)].function") }
                out.append(try ToolDefinition(fn, path: "tools[\(i)].function"))
            }
        }
        if case .array(let items)? = root["functions"] {
            for (i, item) in items.enumerated() { out.append(try ToolDefinition(item, path: "functions[\(i)]")) }
        }
        return out
    }

    init(_ fn: JSONValue, path: String) throws(RequestError) {
        guard case .object = fn else { throw .invalidField(path: path, problem: "expected an object, found \(fn.typeName)") }
        guard case .string(let n)? = fn["name"] else { throw .missingField(path: "\(path).name") }
        name = n
        if case .string(let d)? = fn["description"] { description = d } else { description = "" }
        properties = []
        hasNestedSchema = false
        guard let params = fn["parameters"], params != .null else { return }
        guard case .object = params else { throw .invalidField(path: "\(path).parameters", problem: "expected a JSON schema object, found \(params.typeName)") }
        guard case .object(let props)? = params["properties"] else { return }
        for (key, schema) in props {
            guard case .object = schema else {
                throw .invalidField(path: "\(path).parameters.properties.\(key)", problem: "expected a schema object, found \(schema.typeName)")
            }
            let type: String
            switch schema["type"] {
            case .string(let t)?: type = t
            case nil: type = ""
            case let v?: type = v.compactJSON
            }
            if type == "object" || type == "array" || schema["properties"] != nil || schema["items"] != nil { hasNestedSchema = true }
            var desc = ""
            if case .string(let d)? = schema["description"] { desc = d }
            var enumValues: [String]?
            if case .array(let values)? = schema["enum"] {
                enumValues = values.map { if case .string(let s) = $0 { s } else { $0.compactJSON } }
            }
            properties.append(Property(name: key, type: type, description: desc, enumValues: enumValues))
        }
    }
}
