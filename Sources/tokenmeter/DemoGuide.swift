import Foundation

/// What `tokenmeter demo` prints once both servers listen: where things are, and commands to paste into
/// another terminal. Every line says the upstream is simulated: prose lines start with ``tag``, and each
/// command names a simulated model or ends with a shell comment that does.
struct DemoGuide {
    /// The gateway's OpenAI base URL, `http://127.0.0.1:PORT/v1`.
    var gatewayURL: String
    /// The simulated upstream's OpenAI base URL.
    var upstreamURL: String
    /// The temporary directory that holds the ledger and the catalog file.
    var directory: String
    /// The ledger database in it.
    var ledgerPath: String
    /// The demo user's API key.
    var key: String
    /// The demo's admin key, which signs in to the console.
    var adminKey: String
    /// How the user ran this binary (for the `report` command line).
    var executable: String

    /// The start of every prose line.
    static let tag = "[simulated]"

    var text: String {
        let auth = "-H 'Authorization: Bearer \(key)'"
        let json = "-H 'Content-Type: application/json'"
        let chat = "\(gatewayURL)/chat/completions"
        let python = """
            python3 -u -c 'import sys; from openai import OpenAI; \
            stream = OpenAI(base_url="\(gatewayURL)", api_key="\(key)").chat.completions.create(\
            model="\(DemoSetup.chatModel)", stream=True, messages=[{"role": "user", "content": "Hello!"}]); \
            sys.stdout.writelines(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices); print()'
            """
        let prose = """
            tokenmeter demo: the real gateway in front of a SIMULATED upstream (canned answers: no model, API key or network)
            gateway   \(gatewayURL)   (the code `tokenmeter serve` runs)
            upstream  \(upstreamURL)   (built-in simulator; models \(DemoSetup.chatModel) and \(DemoSetup.essayModel))
            ledger    \(ledgerPath)   (temporary)
            user      \(DemoSetup.userName): at most \(DemoSetup.maxRequestCost) a request, \(DemoSetup.monthlyLimit) a month
            key       \(key)

            1. A stream: the answer arrives in small chunks, \(DemoSetup.chunkMilliseconds) ms apart.
            """
        var lines = tagged(prose)
        lines.append(#"curl -N \#(chat) \#(auth) \#(json) -d '{"model":"\#(DemoSetup.chatModel)","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'"#)
        lines += tagged("""

            2. A budget cut: \(DemoSetup.essayModel)'s answer costs more than the \(DemoSetup.maxRequestCost) a request may spend.
               Look for the line ": tokenmeter: budget exhausted; ..." and a last chunk with "finish_reason":"length"
               and "tokenmeter":{"cut_by_budget":true,"completion_tokens":N}.
            """)
        lines.append(#"curl -N \#(chat) \#(auth) \#(json) -d '{"model":"\#(DemoSetup.essayModel)","stream":true,"messages":[{"role":"user","content":"Tell me about budgets."}]}'"#)
        lines += tagged("""

            3. The official OpenAI Python SDK (pip install openai), unchanged but for base_url and api_key:
            """)
        lines.append(python)
        lines += tagged("""

            4. What it cost: the key's usage this month, and the monthly report from the ledger.
            """)
        lines.append("curl -s \(gatewayURL)/usage \(auth)   # the demo user's spend on simulated models")
        lines.append("\(shellQuoted(executable)) report --db \(shellQuoted(ledgerPath))   # monthly report from the temporary ledger (simulated requests)")
        let root = gatewayURL.hasSuffix("/v1") ? String(gatewayURL.dropLast(3)) : gatewayURL
        lines += tagged("""

            5. The console, in a browser: \(root)/console, signed in with the admin key
               \(adminKey)
               (spend per day and model, the demo user's budget and keys, reports, alerts; all simulated usage).
            """)
        lines += tagged("""

            This terminal logs each request as it is admitted and settled.
            Ctrl-C stops the gateway and the simulated upstream and deletes \(directory).
            """)
        return lines.joined(separator: "\n") + "\n"
    }

    private func tagged(_ prose: String) -> [String] {
        prose.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? Self.tag : "\(Self.tag) \($0)" }
    }
}

/// `text` as one shell word: unchanged when it has only characters no shell treats specially, else in
/// single quotes.
func shellQuoted(_ text: String) -> String {
    let plain = text.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "/._-+:@%=,".unicodeScalars.contains($0)
    }
    if plain, !text.isEmpty { return text }
    return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
