import FlannelCore
import Logging

/// Decides which remote leases a kernel backend programs: those whose BackendType is ours,
/// never one on our own subnets (the subnet manager keeps our lease out of the table; a lease
/// table handed in whole, as the tests' probe does, may still carry it, and a stale lease of
/// another node may still name one of our subnets). Leases of another type are skipped with
/// one warning per lease and type, so a re-list does not repeat them.
struct RemoteLeases {
  let backendType: String
  /// Our own lease's subnets, from `Backend.configure(ownLease:)`: the one place a backend
  /// learns them.
  var own: LeaseSubnets?
  private var warned: Set<String> = []

  init(backendType: String) {
    self.backendType = backendType
  }

  mutating func accepts(_ lease: Lease, logger: Logger) -> Bool {
    guard !isOwn(lease.subnets) else { return false }
    if lease.attrs.backendType == backendType { return true }
    if warned.insert("\(lease.subnets) \(lease.attrs.backendType)").inserted {
      logger.warning(
        "Ignoring non-\(backendType) subnet(\(lease.subnets)): type=\(lease.attrs.backendType)")
    }
    return false
  }

  /// Same key, or either half equal to ours (an IPv6-only lease's empty IPv4 half excepted).
  private func isOwn(_ subnets: LeaseSubnets) -> Bool {
    guard let own else { return false }
    if subnets == own { return true }
    if !own.ipv4IsEmpty && subnets.ipv4 == own.ipv4 { return true }
    return own.ipv6 != nil && subnets.ipv6 == own.ipv6
  }
}
