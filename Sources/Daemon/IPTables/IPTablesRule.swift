/// A chain of ours and the jump that sends a built-in chain's traffic into it: HEAD's layout
/// (nat POSTROUTING → FLANNEL-POSTRTG, filter FORWARD → FLANNEL-FWD).
public struct IPTablesChainSet: Sendable, Equatable {
  public var table: String
  /// The chain we own; its contents are exactly `rules`.
  public var chain: String
  /// The built-in chain that jumps into `chain` (the jump goes first, as stock inserts it).
  public var hook: String
  /// The comment on every rule of ours; hook rules carrying it that are not the jump are
  /// left-overs of older layouts (e.g. v0.16 rules straight in POSTROUTING) and are removed.
  public var comment: String
  /// Rule specs inside `chain`, in order, in the canonical form iptables-save prints.
  public var rules: [[String]]

  public init(table: String, chain: String, hook: String, comment: String, rules: [[String]]) {
    self.table = table
    self.chain = chain
    self.hook = hook
    self.comment = comment
    self.rules = rules
  }

  /// The jump rule in `hook`.
  public var jump: [String] { ["-m", "comment", "--comment", comment, "-j", chain] }

  /// A spec as iptables-save prints it after `-A CHAIN `: arguments with spaces in quotes.
  public static func text(_ spec: [String]) -> String {
    spec.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " ")
  }
}
