import TwoCVM

/// Output of a batch `report verify` or `verify`: one result per file, in input order; in text,
/// each file's usual lines, a blank line between files and a closing tally; in JSON, an array of
/// each file's usual object with `file` added (and `error` instead of the checks when it could
/// not be read).
enum BatchOutput {
    /// Prints `outcomes` (one per `files`) and returns the exit status: 2 when a file could not
    /// be read, else 1 when a file failed a check, else 0.
    /// Text blocks are rendered on `jobs` workers (a batch of thousands spends as long
    /// formatting as checking), then printed in order.
    static func print<Verdict: Sendable>(_ outcomes: [BatchVerify.Outcome<Verdict>], files: [String], json: Bool, jobs: Int,
                                         ok passed: (Verdict) -> Bool, text: @escaping @Sendable (Verdict, String) -> String,
                                         object: (Verdict) -> any Encodable) throws -> ExitStatus {
        if json {
            try Console.json(zip(files, outcomes).map { file, outcome in
                switch outcome {
                case let .checked(verdict): return FileResult(file: file, ok: passed(verdict), error: nil, verdict: object(verdict))
                case let .unreadable(error): return FileResult(file: file, ok: false, error: error.description, verdict: nil)
                }
            })
        } else {
            var blocks = BatchVerify.map(count: outcomes.count, jobs: jobs) { index in
                switch outcomes[index] {
                case let .checked(verdict): return text(verdict, files[index])
                case let .unreadable(error): return "\(files[index]): NOT checked (\(error))"
                }
            }
            let verified = outcomes.filter { $0.ok(passed) }.count
            let unreadable = outcomes.filter { if case .unreadable = $0 { true } else { false } }.count
            let failed = outcomes.count - verified - unreadable
            blocks.append("\(outcomes.count) files: \(verified) verified, \(failed) NOT verified, \(unreadable) unreadable")
            Console.out(blocks.joined(separator: "\n\n"))
        }
        if outcomes.contains(where: { if case .unreadable = $0 { true } else { false } }) { return .badInput }
        return outcomes.allSatisfy({ $0.ok(passed) }) ? .success : .checkFailed
    }

    /// One element of the JSON array: `{"file", "ok", "error"?}` merged with the verdict's object.
    private struct FileResult: Encodable {
        let file: String
        let ok: Bool
        let error: String?
        let verdict: (any Encodable)?

        enum CodingKeys: String, CodingKey { case file, ok, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(file, forKey: .file)
            if let verdict {
                try verdict.encode(to: encoder)
            } else {
                try container.encode(ok, forKey: .ok)
                try container.encode(error, forKey: .error)
            }
        }
    }
}
