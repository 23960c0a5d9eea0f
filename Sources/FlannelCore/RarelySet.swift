/// A value most leases do not have (their IPv6 half on an IPv4 network), kept out of line: an
/// absent one costs a lease one word instead of its full size, and every copy of a
/// 20,000-lease table pays that per lease (`Lease` went from about 80 to 160 bytes when the
/// IPv6 fields came in line, and RSS at 20,000 leases from 30 to 38 MiB). Immutable; compared
/// by value.
public struct RarelySet<Value: Sendable & Equatable>: Sendable, Equatable {
  private final class Box: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
  }

  private var box: Box?

  public init(_ value: Value?) {
    box = value.map(Box.init)
  }

  public var value: Value? { box?.value }

  public static func == (lhs: RarelySet, rhs: RarelySet) -> Bool {
    lhs.box === rhs.box || lhs.box?.value == rhs.box?.value
  }
}
