import Foundation
import TokenMeterJSON

/// The models TokenMeter knows: the bundled catalog (`Resources/catalog.json`, compiled into the
/// binary) with an optional user catalog merged over it. Value type, immutable once built, shared
/// freely across tasks.
///
/// File format: docs/CATALOG.md. Every problem found while loading is a `CatalogError` naming the
/// file, the entry and the field.
public struct ModelCatalog: Sendable {
    /// Version of the file format this code reads.
    public static let formatVersion = 1

    /// Every model, in catalog order (bundled first, then models added by user catalogs).
    public private(set) var models: [CatalogModel]
    /// Lowercased names and aliases → index in `models`.
    private var index: [String: Int]
    /// Which file each name came from, for duplicate messages: lowercased name → entry label.
    private var owners: [String: String]

    /// An empty catalog.
    public init() {
        models = []
        index = [:]
        owners = [:]
    }

    /// The catalog compiled into TokenMeter. Loading it cannot fail unless the bundled file was
    /// edited into an invalid state, which the test suite catches.
    public static func bundled() throws(CatalogError) -> ModelCatalog {
        try ModelCatalog().merging(json: Array(BundledCatalog.json.utf8), origin: "bundled catalog")
    }

    /// This catalog with the catalog file at `path` merged over it.
    public func merging(fileAt path: String) throws(CatalogError) -> ModelCatalog {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path) }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied or I/O error")
        }
        return try merging(json: Array(data), origin: path)
    }

    /// This catalog with a catalog document merged over it: an entry whose name is already known
    /// changes only the fields it gives; any other entry adds a model and must be complete. A name
    /// or alias that another model already uses is an error. `origin` names the document in error messages.
    public func merging(json bytes: [UInt8], origin: String) throws(CatalogError) -> ModelCatalog {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .malformedJSON(origin: origin, error) }
        let top = try CatalogEntryReader(root, origin: origin, entry: "", prefix: "", field: "(document)")
        try top.rejectUnknownKeys(["format", "description", "models"])
        guard let format = try top.int("format", in: 0...Int.max) else {
            throw top.fail("format", "missing (required): write \"format\": \(ModelCatalog.formatVersion)")
        }
        guard format == ModelCatalog.formatVersion else {
            throw top.fail("format", "version \(format) is not supported; this TokenMeter reads format \(ModelCatalog.formatVersion)")
        }
        guard case .array(let entries)? = top.value("models") else {
            throw top.fail("models", top.has("models") ? "expected an array of model objects" : "missing (required)")
        }
        var result = self
        for (i, entry) in entries.enumerated() {
            let patch = try ModelPatch(entry, index: i, origin: origin)
            try result.apply(patch, origin: origin)
        }
        return result
    }

    private mutating func apply(_ patch: ModelPatch, origin: String) throws(CatalogError) {
        let key = patch.name.lowercased()
        if let i = index[key] {
            guard models[i].name.lowercased() == key else {
                throw .duplicateName(origin: origin, name: patch.name, firstEntry: owners[key] ?? "model \"\(models[i].name)\"",
                                     secondEntry: patch.entryLabel)
            }
            let updated = try patch.apply(to: models[i], origin: origin)
            for alias in models[i].aliases { index[alias.lowercased()] = nil; owners[alias.lowercased()] = nil }
            models[i] = updated
            try register(i, label: patch.entryLabel, origin: origin, namesOnlyAliases: true)
        } else {
            models.append(try patch.apply(to: nil, origin: origin))
            try register(models.count - 1, label: patch.entryLabel, origin: origin, namesOnlyAliases: false)
        }
    }

    private mutating func register(_ i: Int, label: String, origin: String, namesOnlyAliases: Bool) throws(CatalogError) {
        var names = models[i].aliases
        if !namesOnlyAliases { names.insert(models[i].name, at: 0) }
        for name in names {
            let key = name.lowercased()
            if let other = index[key] {
                throw .duplicateName(origin: origin, name: name, firstEntry: owners[key] ?? "model \"\(models[other].name)\"",
                                     secondEntry: label)
            }
            index[key] = i
            owners[key] = "\(origin) \(label)"
        }
    }

    /// The model whose name or alias is exactly `name` (ignoring case), without snapshot or tag rules.
    public func model(named name: String) -> CatalogModel? {
        index[name.lowercased()].map { models[$0] }
    }

    /// Every model that has a price (local models priced at 0 included), in catalog order.
    public var pricedModels: [CatalogModel] { models.filter { $0.price != nil } }

    /// Every canonical name and alias, for suggestions.
    var allNames: [String] { models.flatMap { [$0.name] + $0.aliases } }
}
