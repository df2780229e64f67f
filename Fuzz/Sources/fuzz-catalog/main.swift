import FuzzSupport
import TokenMeterCatalog

// Fuzz target for the user catalog loader: `ModelCatalog.merging(json:origin:)`, the path a
// `--catalog` / `catalog:` file takes after it is read, merged over the bundled catalog and over an
// empty one. Checks:
//  1. loading either succeeds or throws a CatalogError whose message names the origin (never traps);
//  2. after a successful merge, every model is found by its name and each alias (ignoring case), the
//     bundled models are all still there, and resolution of each name returns that model.
// The whole input is the document (no header byte).

private let bundled: ModelCatalog = {
    do { return try ModelCatalog.bundled() } catch { fatalError("bundled catalog: \(error)") }
}()
private let origin = "fuzz.json"

private func checkLookups(_ catalog: ModelCatalog, _ label: String) {
    for model in catalog.models {
        for name in [model.name] + model.aliases {
            fuzzCheck(catalog.model(named: name)?.name == model.name, "\(label): \(name) does not find \(model.name)")
            fuzzCheck(catalog.model(named: name.uppercased())?.name == model.name || name.uppercased().lowercased() != name.lowercased(),
                      "\(label): \(name.uppercased()) does not find \(model.name)")
            let resolved = try? catalog.resolve(name)
            fuzzCheck(resolved?.model.name == model.name, "\(label): resolve(\(name)) gave \(String(describing: resolved?.model.name))")
        }
    }
}

private func fuzzCatalog(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for (base, label) in [(bundled, "over bundled"), (ModelCatalog(), "over empty")] {
        let merged: ModelCatalog
        do {
            merged = try base.merging(json: bytes, origin: origin)
        } catch {
            fuzzCheck("\(error)".contains(origin), "\(label): error does not name the file: \(error)")
            continue
        }
        fuzzCheck(merged.models.count >= base.models.count, "\(label): merging lost models")
        for model in base.models {
            fuzzCheck(merged.model(named: model.name) != nil, "\(label): bundled model \(model.name) disappeared")
        }
        checkLookups(merged, label)
        _ = merged.pricedModels
    }
    return 0
}

runFuzzer { fuzzCatalog($0, $1) }
