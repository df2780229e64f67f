import ArgumentParser
import TokenMeterTokenizer

#if canImport(Glibc)
import Glibc
#endif

/// A failure the CLI reports on stderr as `tokenmeter: error: …` and turns into a sysexits(3) code.
struct CLIFailure: Error, CustomStringConvertible {
    /// sysexits(3) codes used by TokenMeter.
    enum Code: Int32 {
        case usage = 64        // EX_USAGE: unknown model or encoding, bad arguments
        case dataError = 65    // EX_DATAERR: invalid UTF-8, bad token id, malformed input
        case noInput = 66      // EX_NOINPUT: input file missing or unreadable
        case unavailable = 69  // EX_UNAVAILABLE: a port or server the command needs cannot be had
        case software = 70     // EX_SOFTWARE: internal error
        case osFile = 72       // EX_OSFILE: vocab file missing, unreadable or corrupt
        case cantCreate = 73   // EX_CANTCREAT: cannot create a file or directory
        case ioError = 74      // EX_IOERR: cannot write output
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Classifies a library error.
    init(_ error: any Error) {
        if let e = error as? CLIFailure { self = e; return }
        guard let e = error as? TokenizerError else { self.init(.software, "\(error)"); return }
        switch e {
        case .unknownModel, .unknownEncoding, .unsupportedEncoding, .unknownSpecialToken:
            self.init(.usage, e.description)
        case .invalidUTF8, .invalidTokenID:
            self.init(.dataError, e.description)
        case .vocabNotFound, .vocabUnreadable, .vocabHashMismatch, .vocabMalformed:
            self.init(.osFile, e.description)
        case .regex:
            self.init(.software, e.description)
        }
    }

    var description: String { message }

    /// Prints the message to stderr and returns the exit code to throw.
    func report() -> ExitCode {
        StandardStreams.writeError("tokenmeter: error: \(message)\n")
        return ExitCode(code.rawValue)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning any failure into its message on stderr and its sysexits code.
    func reportingFailures(_ body: () throws -> Void) throws {
        do { try body() } catch let e as ExitCode { throw e } catch { throw CLIFailure(error).report() }
    }
}
