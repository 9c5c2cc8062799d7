/// The rules over ids, references and the dataflow graph (SPEC §3): unique ids, owners and
/// recipients that exist, references that resolve, one source per input name, channels that
/// form a DAG, and (as warnings) data nobody consumes and components whose work reaches no
/// output.
enum LintRules {
    static func check(_ draft: ManifestDraft, sink: inout DiagnosticSink) {
        checkUniqueIDs(draft, sink: &sink)
        let participants = Set(draft.participants.compactMap(\.id))
        let components = Set(draft.components.compactMap(\.id))
        let dataIDs = Set(draft.data.compactMap(\.id))
        checkOwners(draft, participants: participants, sink: &sink)
        checkChannels(draft, components: components, dataIDs: dataIDs, sink: &sink)
        checkOutputs(draft, participants: participants, components: components, sink: &sink)
        checkCycles(draft, components: components, sink: &sink)
        checkUse(draft, sink: &sink)
    }

    private static func checkUniqueIDs(_ draft: ManifestDraft, sink: inout DiagnosticSink) {
        func unique(_ kind: String, _ items: [(id: String?, path: ManifestPath)]) {
            var first: [String: ManifestPath] = [:]
            for item in items {
                guard let id = item.id else { continue }
                if let earlier = first[id] {
                    sink.report(.duplicateID, path: item.path.key("id"), atValue: true,
                                message: "\(kind) id '\(id)' is already used by \(earlier)",
                                hint: "give every \(kind) a distinct id")
                } else {
                    first[id] = item.path
                }
            }
        }
        unique("participant", draft.participants.map { ($0.id, $0.path) })
        unique("component", draft.components.map { ($0.id, $0.path) })
        unique("data", draft.data.map { ($0.id, $0.path) })
        unique("output", draft.outputs.map { ($0.id, $0.path) })
    }

    private static func checkOwners(_ draft: ManifestDraft, participants: Set<String>, sink: inout DiagnosticSink) {
        let owners = draft.components.map { ($0.owner, $0.path) } + draft.data.map { ($0.owner, $0.path) }
        for (owner, path) in owners {
            guard let owner, !participants.contains(owner) else { continue }
            sink.report(.unknownOwner, path: path.key("owner"), atValue: true,
                        message: "owner '\(owner)' is not a participant",
                        hint: "use one of: \(participants.sorted().joined(separator: ", "))")
        }
    }

    private static func checkChannels(_ draft: ManifestDraft, components: Set<String>, dataIDs: Set<String>,
                                      sink: inout DiagnosticSink) {
        var inputSources: [String: [String: (Channel.Source, ManifestPath)]] = [:]
        for channel in draft.channels {
            if let from = channel.from {
                switch from {
                case let .data(id) where !dataIDs.contains(id):
                    sink.report(.danglingReference, path: channel.path.key("from"), atValue: true,
                                message: "channel source '\(from)' names no [[data]] item '\(id)'",
                                hint: "declare it in [[data]] or fix the id")
                case let .component(id, _) where !components.contains(id):
                    sink.report(.danglingReference, path: channel.path.key("from"), atValue: true,
                                message: "channel source '\(from)' names no component '\(id)'",
                                hint: "declare it in [[components]] or fix the id")
                default: break
                }
            }
            guard let to = channel.to else { continue }
            guard components.contains(to) else {
                sink.report(.danglingReference, path: channel.path.key("to"), atValue: true,
                            message: "channel destination '\(to)' is not a component",
                            hint: "channels deliver to components; outputs reach participants through [[outputs]]")
                continue
            }
            guard let from = channel.from else { continue }
            let name = Channel(from: from, to: to).inputName
            if let (earlier, earlierPath) = inputSources[to]?[name] {
                if earlier == from {
                    sink.report(.duplicateChannel, path: channel.path, message: "channel \(from) → \(to) is declared twice (first at \(earlierPath))",
                                hint: "remove one of them")
                } else {
                    sink.report(.inputNameClash, path: channel.path.key("from"), atValue: true,
                                message: "component '\(to)' would see two inputs named /in/\(name): \(earlier) and \(from)",
                                hint: "rename one of the sources")
                }
            } else {
                inputSources[to, default: [:]][name] = (from, channel.path)
            }
        }
    }

    private static func checkOutputs(_ draft: ManifestDraft, participants: Set<String>, components: Set<String>,
                                     sink: inout DiagnosticSink) {
        for output in draft.outputs {
            if let from = output.from, !components.contains(from) {
                sink.report(.danglingReference, path: output.path.key("from"), atValue: true,
                            message: "output source '\(from)' is not a component", hint: "name the component that writes /out/\(output.id ?? "…")")
            }
            guard let recipients = output.to else { continue }
            if recipients.isEmpty {
                sink.report(.outputWithoutRecipients, path: output.path.key("to"), atValue: true,
                            message: "output '\(output.id ?? "")' has no recipients", hint: "list at least one participant in to = [...]")
            }
            var seen: Set<String> = []
            for (index, recipient) in recipients.enumerated() {
                if !participants.contains(recipient) {
                    sink.report(.unknownRecipient, path: output.path.key("to").index(index), atValue: true,
                                message: "recipient '\(recipient)' is not a participant",
                                hint: "use one of: \(participants.sorted().joined(separator: ", "))")
                } else if !seen.insert(recipient).inserted {
                    sink.report(.unknownRecipient, path: output.path.key("to").index(index), atValue: true,
                                message: "recipient '\(recipient)' is listed twice", hint: "list each recipient once")
                }
            }
        }
    }

    /// Component → component edges must form a DAG; reports the channel closing each cycle.
    private static func checkCycles(_ draft: ManifestDraft, components: Set<String>, sink: inout DiagnosticSink) {
        var edges: [String: [(to: String, path: ManifestPath)]] = [:]
        for channel in draft.channels {
            guard case let .component(source, _)? = channel.from, let to = channel.to,
                  components.contains(source), components.contains(to) else { continue }
            edges[source, default: []].append((to, channel.path))
        }
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var reported: Set<String> = []
        // Iterative depth-first search, so no manifest can exhaust the stack.
        for start in draft.components.compactMap(\.id) where marks[start] == nil {
            var stack: [(node: String, next: Int)] = [(start, 0)]
            marks[start] = .visiting
            while let (node, next) = stack.last {
                let out = edges[node] ?? []
                guard next < out.count else {
                    marks[node] = .done
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let edge = out[next]
                switch marks[edge.to] {
                case .visiting?:
                    let cycleStart = stack.firstIndex { $0.node == edge.to } ?? 0
                    let cycle = stack[cycleStart...].map(\.node) + [edge.to]
                    if reported.insert(edge.path.description).inserted {
                        sink.report(.channelCycle, path: edge.path, message: "channels form a cycle: \(cycle.joined(separator: " → "))",
                                    hint: "channels must form a DAG; remove or redirect one of these channels")
                    }
                case .done?: break
                case nil:
                    marks[edge.to] = .visiting
                    stack.append((edge.to, 0))
                }
            }
        }
    }

    /// Warnings: data nobody consumes; components none of whose results reach an output.
    private static func checkUse(_ draft: ManifestDraft, sink: inout DiagnosticSink) {
        var consumed: Set<String> = []
        var feeds: [String: Set<String>] = [:]  // component → components it feeds
        for channel in draft.channels {
            guard let from = channel.from else { continue }
            switch from {
            case let .data(id): consumed.insert(id)
            case let .component(id, _): if let to = channel.to { feeds[id, default: []].insert(to) }
            }
        }
        for item in draft.data {
            guard let id = item.id, !consumed.contains(id) else { continue }
            sink.report(.unconsumedData, .warning, path: item.path.key("id"), atValue: true,
                        message: "data '\(id)' is not consumed by any channel",
                        hint: "add a [[channels]] entry from \"data.\(id)\" or remove the item")
        }
        // A component is useful if it writes an output or feeds a useful component.
        var useful = Set(draft.outputs.compactMap(\.from))
        var changed = true
        while changed {
            changed = false
            for (source, targets) in feeds where !useful.contains(source) && !targets.isDisjoint(with: useful) {
                useful.insert(source)
                changed = true
            }
        }
        for component in draft.components {
            guard let id = component.id, !useful.contains(id) else { continue }
            sink.report(.unreachableComponent, .warning, path: component.path.key("id"), atValue: true,
                        message: "component '\(id)' produces nothing that reaches an [[outputs]] entry",
                        hint: "connect it to an output through channels, or remove it")
        }
    }
}
