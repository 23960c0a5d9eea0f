/// The version line of `iptables --version`, e.g. "iptables v1.8.9 (nf_tables)".
public struct IPTablesVersion: Sendable, Equatable, Comparable {
  public var major: Int
  public var minor: Int
  public var patch: Int

  public init(major: Int, minor: Int, patch: Int) {
    self.major = major
    self.minor = minor
    self.patch = patch
  }

  public init?(parsing text: String) {
    guard let v = text.split(separator: " ").first(where: { $0.hasPrefix("v") }) else {
      return nil
    }
    let numbers = v.dropFirst().split(separator: ".").map { Int($0) }
    guard numbers.count >= 2, numbers.allSatisfy({ $0 != nil }) else { return nil }
    self.init(major: numbers[0]!, minor: numbers[1]!, patch: numbers.count > 2 ? numbers[2]! : 0)
  }

  /// MASQUERADE `--random-fully` arrived in iptables 1.6.2 (the check stock uses).
  public var supportsRandomFully: Bool {
    self >= IPTablesVersion(major: 1, minor: 6, patch: 2)
  }

  public static func < (lhs: IPTablesVersion, rhs: IPTablesVersion) -> Bool {
    (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
  }
}
