/// Decides whether our chains are intact and, if not, writes the one `iptables-restore
/// --noflush` transaction that rebuilds them (flannel-behaviour §7.3).
///
/// Stock HEAD checks that every rule exists, and if one is missing deletes and re-appends
/// them all in one transaction. We compare our chain's contents exactly (so rules of a
/// previous network or subnet count as damage too) and rebuild by declaring the chain —
/// which creates it, or flushes it under --noflush — then appending the rules; the jump is
/// deleted wherever it is and inserted first. All of it commits atomically: no moment
/// without rules, nothing of other programs touched.
public enum IPTablesRepairPlan {
  public struct Finding: Sendable, Equatable {
    public var chainSet: IPTablesChainSet
    /// Why the set is out of sync, for the log; empty when it is in sync.
    public var problems: [String]
  }

  public static func inspect(_ set: IPTablesChainSet, in save: IPTablesSave) -> Finding {
    var problems: [String] = []
    let jump = IPTablesChainSet.text(set.jump)
    let hookRules = save.rules[set.hook] ?? []
    if !hookRules.contains(jump) {
      problems.append("\(set.table) \(set.hook) lacks the jump to \(set.chain)")
    }
    let stale = staleHookRules(set, in: save)
    if !stale.isEmpty {
      problems.append("\(set.table) \(set.hook) has \(stale.count) old flannel rule(s)")
    }
    if !save.chains.contains(set.chain) {
      problems.append("chain \(set.table) \(set.chain) is missing")
    } else if (save.rules[set.chain] ?? []) != set.rules.map(IPTablesChainSet.text) {
      problems.append("chain \(set.table) \(set.chain) differs from the expected rules")
    }
    return Finding(chainSet: set, problems: problems)
  }

  /// Hook-chain rules with our comment that are not the jump.
  static func staleHookRules(_ set: IPTablesChainSet, in save: IPTablesSave) -> [String] {
    let jump = IPTablesChainSet.text(set.jump)
    let marker = "--comment " + IPTablesChainSet.text([set.comment])
    return (save.rules[set.hook] ?? []).filter { $0 != jump && $0.contains(marker) }
  }

  /// The restore payload rebuilding `set` given the current `save` of its table.
  public static func rebuild(_ set: IPTablesChainSet, from save: IPTablesSave) -> String {
    let jump = IPTablesChainSet.text(set.jump)
    var lines = ["*\(set.table)", ":\(set.chain) - [0:0]"]
    for rule in save.rules[set.hook] ?? [] where rule == jump {
      lines.append("-D \(set.hook) \(rule)")
    }
    for rule in staleHookRules(set, in: save) { lines.append("-D \(set.hook) \(rule)") }
    lines.append("-I \(set.hook) 1 \(jump)")
    for rule in set.rules { lines.append("-A \(set.chain) \(IPTablesChainSet.text(rule))") }
    lines.append("COMMIT")
    return lines.joined(separator: "\n") + "\n"
  }
}
