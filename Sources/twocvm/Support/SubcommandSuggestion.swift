import ArgumentParser

/// "Did you mean …?" for a misspelt subcommand (`twocvm compse`, `twocvm manifest lnt`), which
/// ArgumentParser reports only as unexpected arguments.
enum SubcommandSuggestion {
    /// The message for the first argument that should name a subcommand but names none, with
    /// the closest name when one is close enough; nil when the arguments name known commands.
    static func message(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        var path = [root.configuration.commandName ?? "twocvm"]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !argument.hasPrefix("-"), argument != "help" else { return nil }
            guard let index = subcommands.firstIndex(where: { $0.configuration.commandName == argument }) else {
                let names = subcommands.filter { $0.configuration.shouldDisplay }.compactMap { $0.configuration.commandName }
                let closest = names.map { ($0, distance(argument, $0)) }.min { $0.1 < $1.1 }
                let hint = closest.flatMap { $0.1 <= max(2, argument.count / 3) ? "; did you mean '\($0.0)'?" : nil }
                    ?? "; the subcommands are \(names.joined(separator: ", "))"
                return "unknown subcommand '\(argument)' of '\(path.joined(separator: " "))'\(hint)\n"
                    + "  See '\(path.joined(separator: " ")) --help'."
            }
            command = subcommands[index]
            path.append(argument)
        }
        return nil
    }

    /// The Levenshtein distance between two short strings.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
