import ArgumentParser

/// Every exit status of `tokenmeter`, in one table (docs/CLI.md, "Exit status"). Failures use the codes of
/// sysexits(3), so scripts can tell a mistake in the command (64) from bad input (65), a missing file (66),
/// an unreachable service (69) or a bad configuration (78).
enum ExitStatus: Int32, CaseIterable {
    /// `estimate --strict`: a prompt does not fit its model's context window.
    case overContext = 1
    /// EX_USAGE: a bad argument, an unknown model or encoding, a bad amount or month.
    case usage = 64
    /// EX_DATAERR: invalid UTF-8, a bad token id, malformed JSON; a ledger refusal (unknown or duplicate
    /// user, unknown key, budget rules).
    case dataError = 65
    /// EX_NOINPUT: an input file or the ledger database is missing or unreadable.
    case noInput = 66
    /// EX_UNAVAILABLE: the upstream cannot be reached or failed; the ledger is in use by a running server.
    case unavailable = 69
    /// EX_SOFTWARE: an internal error (a bug: please report it).
    case software = 70
    /// EX_OSFILE: a vocab file is missing, unreadable or corrupt.
    case osFile = 72
    /// EX_CANTCREAT: an output file or the ledger database cannot be created.
    case cannotCreate = 73
    /// EX_IOERR: output cannot be written; the ledger cannot be opened or written.
    case ioError = 74
    /// EX_TEMPFAIL: the upstream timed out.
    case tempFail = 75
    /// EX_PROTOCOL: the upstream's stream is malformed.
    case protocolError = 76
    /// EX_NOPERM: the upstream refused the API key (401, 403).
    case noPermission = 77
    /// EX_CONFIG: the configuration file or environment is invalid.
    case configuration = 78
    /// `chat` interrupted with Ctrl-C (128 + SIGINT), after printing what it had.
    case interrupted = 130

    /// The `ExitCode` to throw from a command.
    var exitCode: ExitCode { ExitCode(rawValue) }
}
