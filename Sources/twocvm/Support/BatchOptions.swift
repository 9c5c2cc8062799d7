import ArgumentParser
import TwoCVM

/// `--jobs N`, shared by `report verify` and `verify` when they are given several files.
struct BatchOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("With several files, check them on N workers in parallel (default: the number of cores).",
                                            valueName: "N"))
    var jobs: Int?

    mutating func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more; got \(jobs)") }
    }

    /// The number of workers to use.
    var workers: Int { jobs ?? BatchVerify.defaultJobs }
}

extension BatchOptions {
    /// Checks that a per-file option (`--cert`, `--chain`) was given once for all files or once
    /// per file (`required`: at least once).
    static func pairing(_ flag: String, _ given: Int, with files: Int, required: Bool) throws {
        if given == 0 && !required || given == 1 || given == files { return }
        throw ValidationError(given == 0 ? "missing \(flag)"
            : "\(flag) given \(given) times for \(files) files: give it once for all of them or once per file, in order")
    }
}
