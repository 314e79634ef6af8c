/// Several processes' Prometheus text expositions as one: the text format allows each metric family once, its
/// `# HELP` and `# TYPE` lines first and every sample of it together, so families the processes share (each labels
/// its own samples with `daemon`) are gathered under one header, in the order they first appear.
enum PrometheusTextMerge {
    private struct Family {
        var header: [Substring] = []
        var type: Substring?
        var samples: [Substring] = []
    }

    static func merge(_ expositions: [String], help: [String: String] = [:]) -> String {
        var families: [Substring: Family] = [:]
        var order: [Substring] = []
        for text in expositions {
            // A family whose type differs from the one already gathered is left out of this process's part:
            // Prometheus would refuse the whole scrape for it.
            var current: Substring?
            var skipping = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("#") {
                    let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                    guard words.count >= 3, words[1] == "TYPE" || words[1] == "HELP" else { continue }
                    let name = words[2]
                    if families[name] == nil {
                        families[name] = Family()
                        order.append(name)
                    }
                    if current != name { skipping = false }
                    current = name
                    if words[1] == "TYPE" {
                        let type = words.count > 3 ? words[3] : ""
                        if let known = families[name]?.type {
                            skipping = known != type
                        } else {
                            families[name]?.type = type
                            families[name]?.header.append(line)
                        }
                    } else if families[name]?.header.contains(where: { $0.hasPrefix("# HELP") }) == false {
                        families[name]?.header.insert(line, at: 0)
                    }
                    continue
                }
                guard !skipping else { continue }
                let name = current ?? line.prefix { $0 != "{" && $0 != " " }
                if families[name] == nil {
                    families[name] = Family()
                    order.append(name)
                }
                families[name]?.samples.append(line)
            }
        }
        var merged = ""
        for name in order {
            guard var family = families[name] else { continue }
            if !family.header.contains(where: { $0.hasPrefix("# HELP") }), let text = help[String(name)] {
                family.header.insert("# HELP \(name) \(text)", at: 0)
            }
            for line in family.header + family.samples {
                merged += line
                merged += "\n"
            }
        }
        return merged
    }
}
