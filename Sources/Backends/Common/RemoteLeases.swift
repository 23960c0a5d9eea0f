import FlannelCore
import Logging

/// Picks the leases a kernel backend programs from the full table: every lease but our own
/// whose BackendType is ours. Leases of another type are skipped with one warning per
/// subnet and type (the table comes back on every update; the log should not).
struct RemoteLeases {
  let backendType: String
  private var warned: Set<String> = []

  init(backendType: String) {
    self.backendType = backendType
  }

  mutating func select(_ table: LeaseTable, own: IPv4Network?, logger: Logger) -> [Lease] {
    var selected: [Lease] = []
    for lease in table.leases where lease.subnet != own {
      if lease.attrs.backendType == backendType {
        selected.append(lease)
      } else if warned.insert("\(lease.subnet) \(lease.attrs.backendType)").inserted {
        logger.warning(
          "Ignoring non-\(backendType) subnet(\(lease.subnet)): type=\(lease.attrs.backendType)")
      }
    }
    return selected
  }
}
