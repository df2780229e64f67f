import ArgumentParser
import Foundation
import TokenMeterLedger
import TokenMeterJSON

/// `tokenmeter users …`: people and their budgets.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list, show, budget, disable and enable users.",
        subcommands: [Add.self, List.self, Show.self, SetBudget.self, Disable.self, Enable.self]
    )
}

extension Users {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user (creates the database if needed).",
            discussion: "Example: tokenmeter users add ann --monthly-usd 20 --max-request-usd 0.50")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "Unique user name: letters, digits and . _ @ - (case-insensitive).")
        var name: String
        @OptionGroup var budget: BudgetOptions

        func run() async throws {
            let budget = try self.budget.patch().applied(to: .unlimited)
            try await options.withLedger(creating: true) { store in
                let user = try await store.addUser(name: name, budget: budget)
                if options.json { return options.printJSON(try await store.view(of: user)) }
                print("added user \(user.name) (\(Formatting.budget(budget)))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users with this month's spend.")

        @OptionGroup var options: LedgerOptions

        func run() async throws {
            try await options.withLedger { store in
                var views: [JSONValue] = []
                var table = TextTable("NAME", "STATUS", "MONTHLY LIMIT", "SPENT", "REMAINING", "TOKEN LIMIT", "TOKENS USED",
                                      "MAX/REQUEST")
                for user in try await store.listUsers() {
                    let s = try await store.remaining(userID: user.id)
                    views.append(LedgerJSON.user(user, status: s))
                    table.add(user.name, user.status.rawValue, Formatting.limit(s.budget.monthlyLimit),
                              s.committedCost.description, Formatting.limit(s.remainingCost),
                              Formatting.limit(s.budget.monthlyTokenLimit), Formatting.count(s.committedTokens),
                              Formatting.limit(s.budget.maxRequestCost))
                }
                if options.json { return options.printJSON(.array(views)) }
                print(views.isEmpty ? "no users (add one with `tokenmeter users add NAME`)" : table.rendered)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a user's budget, spend this month (UTC) and what remains.")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name.") var name: String

        func run() async throws {
            try await options.withLedger { store in
                let user = try await store.user(named: name)
                let s = try await store.remaining(userID: user.id)
                if options.json { return options.printJSON(LedgerJSON.user(user, status: s)) }
                let keys = try await store.listAPIKeys(userID: user.id)
                let usage = try await store.usage(userID: user.id, period: s.period)
                let active = keys.filter { $0.revokedAt == nil }.count
                var remaining: [String] = []
                if let c = s.remainingCost { remaining.append(c.description) }
                if let t = s.remainingTokens { remaining.append("\(Formatting.count(t)) tokens") }
                print("""
                    user       \(user.name) (\(user.status.rawValue), since \(Formatting.date(user.createdAt)))
                    period     \(s.period) (UTC)
                    budget     \(Formatting.budget(s.budget))
                    spent      \(s.settledCost) settled + \(s.heldCost) held = \(s.committedCost); \
                    \(Formatting.count(s.committedTokens)) tokens
                    remaining  \(remaining.isEmpty ? "unlimited" : remaining.joined(separator: ", "))
                    requests   \(s.settledRequests) settled, \(s.liveReservations) in flight
                    keys       \(active) active, \(keys.count - active) revoked
                    """)
                guard !usage.models.isEmpty else { return }
                var table = TextTable("MODEL", "REQUESTS", "PROMPT", "COMPLETION", "BILLED TOKENS", "COST")
                for m in usage.models {
                    table.add(m.model, Formatting.count(m.requests), Formatting.count(m.promptTokens),
                              Formatting.count(m.completionTokens), Formatting.count(m.billedTokens), m.cost.description)
                }
                print("\n" + table.rendered)
            }
        }
    }

    struct SetBudget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-budget",
            abstract: "Change a user's limits; options not given stay as they are, 'none' removes a limit.")

        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name.") var name: String
        @OptionGroup var budget: BudgetOptions

        func validate() throws {
            if try budget.patch().isEmpty {
                throw ValidationError("give at least one of --monthly-usd, --monthly-tokens, --max-request-usd")
            }
        }

        func run() async throws {
            let patch = try budget.patch()
            try await options.withLedger { store in
                let user = try await store.user(named: name)
                let updated = try await store.updateBudget(userID: user.id, patch)
                if options.json { return options.printJSON(try await store.view(of: user)) }
                print("budget of \(user.name): \(Formatting.budget(updated))")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a user's keys (history is kept).")
        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name.") var name: String

        func run() async throws { try await setStatus(.disabled, name: name, options: options) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept a disabled user's keys again.")
        @OptionGroup var options: LedgerOptions
        @Argument(help: "User name.") var name: String

        func run() async throws { try await setStatus(.active, name: name, options: options) }
    }

    static func setStatus(_ status: UserStatus, name: String, options: LedgerOptions) async throws {
        try await options.withLedger { store in
            let user = try await store.setStatus(userID: try await store.user(named: name).id, status)
            if options.json {
                return options.printJSON(try await store.view(of: user))
            }
            print("user \(user.name) is \(user.status.rawValue)")
        }
    }
}
