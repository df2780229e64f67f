import TokenMeterLedger

extension LedgerError {
    /// The status the CLI exits with for this error.
    var exitStatus: ExitStatus {
        switch self {
        case .databaseNotFound: .noInput
        case .cannotCreateDatabase: .cannotCreate
        case .cannotOpenDatabase, .storage: .ioError
        case .databaseInUse, .databaseBusy, .databaseUnavailable: .unavailable
        case .userNotFound, .userIDNotFound, .userExists, .invalidUserName, .userDisabled, .invalidAPIKey,
             .apiKeyRevoked, .apiKeyNotFound, .apiKeyNotOwned, .invalidBudget, .budgetExhausted,
             .requestCapExceeded, .duplicateRequestID, .reservationNotOpen, .invalidUsage:
            .dataError
        }
    }
}
