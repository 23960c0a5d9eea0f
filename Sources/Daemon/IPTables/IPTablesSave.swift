/// One table of `iptables-save` output: its chains and each chain's rules as printed after
/// `-A CHAIN `.
public struct IPTablesSave: Sendable, Equatable {
  public var chains: Set<String> = []
  public var rules: [String: [String]] = [:]

  public init() {}

  /// Parses the output of `iptables-save -t TABLE` (other tables in the text are ignored).
  public init(parsing text: String, table: String) {
    var inTable = false
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
      let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
      if line.hasPrefix("*") {
        inTable = line.dropFirst() == table
      } else if !inTable || line.hasPrefix("#") || line == "COMMIT" {
        continue
      } else if line.hasPrefix(":") {
        let name = line.dropFirst().prefix(while: { $0 != " " })
        chains.insert(String(name))
      } else if line.hasPrefix("-A ") {
        let rest = line.dropFirst(3)
        let chain = String(rest.prefix(while: { $0 != " " }))
        let spec = rest.dropFirst(chain.count).drop(while: { $0 == " " })
        rules[chain, default: []].append(String(spec))
      }
    }
  }
}
