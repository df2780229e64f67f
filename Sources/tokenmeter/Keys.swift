import ArgumentParser
import Foundation
import TokenMeterLedger
import TokenMeterJSON

/// `tokenmeter keys …`: API keys. Only a key's prefix is stored in clear; the key is shown once.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )
}

extension Keys {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for a user and print it once (only its hash is stored).")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name.") var user: String

        func run() async throws {
            try await options.withLedger { store in
                let issued = try await store.createAPIKey(userID: try await store.user(named: user).id)
                if options.json { return options.printJSON(LedgerJSON.key(issued.info, secret: issued.key)) }
                // The key alone on stdout (for `KEY=$(tokenmeter keys create ann)`); the note on stderr.
                print(issued.key)
                FileHandle.standardError.write(Data("""
                    created key \(issued.info.displayPrefix) for \(issued.info.userName); \
                    this is the only time it is shown, store it now

                    """.utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (prefixes only), of one user or all.")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name (default: every user).") var user: String?

        func run() async throws {
            try await options.withLedger { store in
                let userID = try await user.asyncMap { try await store.user(named: $0).id }
                let keys = try await store.listAPIKeys(userID: userID)
                if options.json { return options.printJSON(.array(keys.map { LedgerJSON.key($0) })) }
                guard !keys.isEmpty else { return print("no keys (create one with `tokenmeter keys create USER`)") }
                var table = TextTable("PREFIX", "USER", "STATUS", "CREATED", "LAST USED")
                for k in keys {
                    table.add(k.displayPrefix, k.userName, k.revokedAt == nil ? "active" : "revoked",
                              Formatting.date(k.createdAt), Formatting.date(k.lastUsedAt))
                }
                print(table.rendered)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its prefix; it stops working at once.")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "The key's prefix as listed (abcd2345 or tm_abcd2345_…).") var prefix: String

        func run() async throws {
            try await options.withLedger { store in
                let info = try await store.revokeAPIKey(prefix: prefix)
                if options.json { return options.printJSON(LedgerJSON.key(info)) }
                print("revoked \(info.displayPrefix) of \(info.userName) at \(Formatting.date(info.revokedAt))")
            }
        }
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
