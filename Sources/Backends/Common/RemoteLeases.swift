import FlannelCore
import Logging

/// Decides which remote leases a kernel backend programs: those whose BackendType is ours,
/// never our own subnet (the subnet manager keeps it out of the table; a lease table handed
/// in whole, as the tests' probe does, may still carry it). Leases of another type are
/// skipped with one warning per subnet and type, so a re-list does not repeat them.
struct RemoteLeases {
  let backendType: String
  /// Our own subnet, from `Backend.configure(ownLease:)`: the one place a backend learns it.
  var ownSubnet: IPv4Network?
  private var warned: Set<String> = []

  init(backendType: String) {
    self.backendType = backendType
  }

  mutating func accepts(_ lease: Lease, logger: Logger) -> Bool {
    guard lease.subnet != ownSubnet else { return false }
    if lease.attrs.backendType == backendType { return true }
    if warned.insert("\(lease.subnet) \(lease.attrs.backendType)").inserted {
      logger.warning(
        "Ignoring non-\(backendType) subnet(\(lease.subnet)): type=\(lease.attrs.backendType)")
    }
    return false
  }
}
