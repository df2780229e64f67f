import TokenMeterLedger

extension LedgerError {
    /// The sysexits(3) code the CLI exits with for this error.
    var exitCode: Int32 {
        switch self {
        case .databaseNotFound: 66 // EX_NOINPUT
        case .cannotCreateDatabase: 73 // EX_CANTCREAT
        case .cannotOpenDatabase, .storage: 74 // EX_IOERR
        case .databaseInUse, .databaseBusy: 69 // EX_UNAVAILABLE
        case .userNotFound, .userIDNotFound, .userExists, .invalidUserName, .userDisabled, .invalidAPIKey,
             .apiKeyRevoked, .apiKeyNotFound, .apiKeyNotOwned, .invalidBudget, .budgetExhausted,
             .requestCapExceeded, .duplicateRequestID, .reservationNotOpen, .invalidUsage:
            65 // EX_DATAERR
        }
    }
}
