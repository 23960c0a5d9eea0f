import FlannelCore
import SubnetManager

/// What a kernel backend has made of the remote leases, by subnet: the value it programs for
/// each (a vxlan peer, a host-gw route). Lease events change it one subnet at a time and say
/// what changed, so the backend touches exactly that subnet's kernel objects; a full
/// reconcile reads it whole.
struct PeerIndex<Peer: Equatable> {
  private(set) var peers: [IPv4Network: Peer] = [:]

  /// One subnet's change: what was programmed before and what should be now (nil: nothing).
  struct Change {
    let subnet: IPv4Network
    let old: Peer?
    let new: Peer?
  }

  /// Applies `event`; `make` turns a lease into its peer, or nil when this backend does not
  /// program it (another backend type, unusable data). Returns nil when nothing changed.
  mutating func apply(_ event: LeaseEvent, make: (Lease) -> Peer?) -> Change? {
    let subnet = event.lease.subnet
    let new: Peer? =
      switch event {
      case .added(let lease): make(lease)
      case .removed: nil
      }
    let old: Peer?
    if let new {
      old = peers.updateValue(new, forKey: subnet)
    } else {
      old = peers.removeValue(forKey: subnet)
    }
    guard old != new else { return nil }
    return Change(subnet: subnet, old: old, new: new)
  }

  /// Drops the peer of `subnet` (our own lease moved onto it).
  mutating func remove(_ subnet: IPv4Network) -> Peer? { peers.removeValue(forKey: subnet) }

  var count: Int { peers.count }
}
