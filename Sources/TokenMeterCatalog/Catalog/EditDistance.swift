/// String distances for "did you mean" suggestions: unknown model names here, unknown configuration keys in
/// the server.
public enum EditDistance {
    /// The Levenshtein distance (insertions, deletions, substitutions, each cost 1) between `a` and `b`.
    public static func levenshtein(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Up to `limit` of `candidates` closest to `name` by Levenshtein distance (ignoring case), nearest first,
    /// ties broken alphabetically; candidates more than `maxDistance` edits away are left out.
    public static func closest(to name: String, among candidates: some Sequence<String>, limit: Int = 3,
                               maxDistance: Int = .max) -> [String] {
        let target = Array(name.lowercased())
        var near: [(name: String, distance: Int)] = []
        for candidate in candidates {
            let distance = levenshtein(Array(candidate.lowercased()), target)
            if distance <= maxDistance { near.append((candidate, distance)) }
        }
        near.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.name < $1.name }
        return near.prefix(limit).map(\.name)
    }
}
