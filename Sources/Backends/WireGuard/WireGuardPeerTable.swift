import FlannelCore
import Logging
import SubnetManager

/// The remote leases the wireguard backend turns into peers, by subnet: updated from lease
/// events, read whole when the handshake thread is told the peers. Leases of another backend
/// type, and wireguard leases whose BackendData is unusable, are left out with one warning
/// each (per subnet and reason), as the kernel backends skip foreign leases.
struct WireGuardPeerTable {
  let defaultPort: UInt16
  private(set) var peers: [IPv4Network: WireGuardLeasePeer] = [:]
  private var remote = RemoteLeases(backendType: "wireguard")
  private var warned: Set<String> = []

  init(defaultPort: UInt16) {
    self.defaultPort = defaultPort
  }

  /// IPv4 only: the backend carries no IPv6.
  var ownSubnet: IPv4Network? {
    get { remote.own?.ipv4 }
    set {
      remote.own = newValue.map { LeaseSubnets(ipv4: $0) }
      if let newValue { peers[newValue] = nil }
    }
  }

  /// Applies one event; true when the peers changed.
  mutating func apply(_ event: LeaseEvent, logger: Logger) -> Bool {
    switch event {
    case .added(let lease):
      guard remote.accepts(lease, logger: logger) else {
        return peers.removeValue(forKey: lease.subnet) != nil
      }
      switch WireGuardLeasePeer.from(lease, defaultPort: defaultPort) {
      case .success(let peer):
        return peers.updateValue(peer, forKey: lease.subnet) != peer
      case .failure(let refusal):
        if warned.insert(refusal.description).inserted {
          logger.warning("wireguard backend: ignoring lease, \(refusal)")
        }
        return peers.removeValue(forKey: lease.subnet) != nil
      }
    case .removed(let lease):
      return peers.removeValue(forKey: lease.subnet) != nil
    }
  }

  /// The peers in a stable order (by subnet).
  var sorted: [WireGuardLeasePeer] {
    peers.values.sorted { $0.subnet.address.value < $1.subnet.address.value }
  }
}
