import GRDB
import TokenMeterMoney

/// A row of `budgets`: at most one per user; no row means no limits.
struct BudgetRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "budgets"

    var userID: Int64
    var monthlyLimitPicoUSD: Int64?
    var monthlyTokenLimit: Int64?
    var maxRequestPicoUSD: Int64?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case monthlyLimitPicoUSD = "monthly_limit_pusd"
        case monthlyTokenLimit = "monthly_token_limit"
        case maxRequestPicoUSD = "max_request_pusd"
    }

    init(userID: Int64, budget: Budget) {
        self.userID = userID
        self.monthlyLimitPicoUSD = budget.monthlyLimit?.picoUSD
        self.monthlyTokenLimit = budget.monthlyTokenLimit
        self.maxRequestPicoUSD = budget.maxRequestCost?.picoUSD
    }

    var budget: Budget {
        Budget(monthlyLimit: monthlyLimitPicoUSD.map(Money.init(picoUSD:)), monthlyTokenLimit: monthlyTokenLimit,
               maxRequestCost: maxRequestPicoUSD.map(Money.init(picoUSD:)))
    }

    /// The budget of `userID`, or `.unlimited` when the user has no row.
    static func budget(ofUser userID: Int64, _ db: Database) throws -> Budget {
        try LedgerQueries.cachedOne(BudgetRow.self, db, "SELECT * FROM budgets WHERE user_id = ?", [userID])?.budget ?? .unlimited
    }
}
