import TokenMeterMoney

extension EstimateReport {
    /// The report as a plain-text table for people: one line per row, per-model totals when there
    /// are several inputs, then each approximation reason and warning once, with the rows it
    /// concerns.
    public func tableText() -> String {
        let showInput = inputCount > 1
        var header = ["MODEL", "PROMPT", "MAX OUT", "PROMPT COST", "WORST CASE", "CONTEXT", "COUNT"]
        if showInput { header.insert("INPUT", at: 0) }
        var lines: [[String]] = [header]
        for r in rows {
            var name = r.model.name
            if r.resolved.requested.lowercased() != r.model.name.lowercased() { name = "\(r.resolved.requested) → \(r.model.name)" }
            var line = [name, String(r.prompt.tokens), String(r.maxOutputTokens), money(r.promptCost), money(r.worstCaseCost),
                        r.contextOverflow.map { "OVER \($0.limit)" } ?? "fits \(r.model.contextWindow)", r.isExact ? "exact" : "approx"]
            if showInput { line.insert(r.input, at: 0) }
            lines.append(line)
        }
        var out = EstimateReport.align(lines, rightAligned: showInput ? [2, 3, 4, 5] : [1, 2, 3, 4])
        if showInput {
            var tl: [[String]] = [["TOTAL", "INPUTS", "PROMPT", "MAX OUT", "PROMPT COST", "WORST CASE", "OVER CONTEXT"]]
            for t in totals {
                tl.append([t.model, String(t.inputs), String(t.promptTokens), String(t.maxOutputTokens), money(t.promptCost),
                           money(t.worstCaseCost), String(t.overContext)])
            }
            out += "\n" + EstimateReport.align(tl, rightAligned: [1, 2, 3, 4, 5, 6])
        }
        var notes: [(text: String, who: [String])] = []
        func note(_ text: String, _ who: String) {
            if let i = notes.firstIndex(where: { $0.text == text }) {
                if !notes[i].who.contains(who) { notes[i].who.append(who) }
            } else {
                notes.append((text, [who]))
            }
        }
        for r in rows {
            let who = showInput ? "\(r.input): \(r.model.name)" : r.model.name
            for w in r.warnings { note("warning: " + w, who) }
            if case .snapshot(let base) = r.resolved.match { note("\(r.resolved.requested) has no entry of its own; priced as \(base) (snapshot rule)", who) }
            if case .tag(let base) = r.resolved.match { note("\(r.resolved.requested) counted and priced as \(base) (tag rule)", who) }
            for a in r.prompt.approximations { note("approx: " + a, who) }
        }
        if !notes.isEmpty {
            out += "\n"
            for n in notes {
                let who = n.who.count > 8 ? "\(n.who.count) rows" : n.who.joined(separator: ", ")
                out += "- \(n.text) [\(who)]\n"
            }
        }
        return out
    }

    private func money(_ m: Money?) -> String { m?.description ?? "no price" }

    /// Columns padded to equal width; `rightAligned` columns are padded on the left.
    static func align(_ lines: [[String]], rightAligned: Set<Int>) -> String {
        let columns = lines.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for l in lines { for (i, cell) in l.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for l in lines {
            var cells: [String] = []
            for (i, cell) in l.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                cells.append(rightAligned.contains(i) ? pad + cell : (i + 1 == l.count ? cell : cell + pad))
            }
            out += cells.joined(separator: "  ") + "\n"
        }
        return out
    }
}
