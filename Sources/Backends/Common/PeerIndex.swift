import FlannelCore
import SubnetManager

/// What a kernel backend has made of the remote leases, by lease: the value it programs for
/// each (a vxlan peer, a host-gw route). Lease events change it one lease at a time and say
/// what changed, so the backend touches exactly that lease's kernel objects; a full
/// reconcile reads it whole. `Key` is how the backend tells leases apart: the IPv4 subnet
/// where it programs IPv4 only, the lease's key (`LeaseSubnets`) where it programs IPv6 too
/// (on an IPv6-only network every lease's IPv4 part is 0.0.0.0/0).
struct PeerIndex<Key: PeerKey, Peer: Equatable> {
  private(set) var peers: [Key: Peer] = [:]

  /// One lease's change: what was programmed before and what should be now (nil: nothing).
  struct Change {
    let key: Key
    let old: Peer?
    let new: Peer?
  }

  /// Applies `event`; `make` turns a lease into its peer, or nil when this backend does not
  /// program it (another backend type, unusable data). Returns nil when nothing changed.
  mutating func apply(_ event: LeaseEvent, make: (Lease) -> Peer?) -> Change? {
    let key = Key(event.lease)
    let new: Peer? =
      switch event {
      case .added(let lease): make(lease)
      case .removed: nil
      }
    let old: Peer?
    if let new {
      old = peers.updateValue(new, forKey: key)
    } else {
      old = peers.removeValue(forKey: key)
    }
    guard old != new else { return nil }
    return Change(key: key, old: old, new: new)
  }

  /// Drops the peer of `lease` (our own lease moved onto it).
  mutating func remove(_ lease: Lease) -> Peer? { peers.removeValue(forKey: Key(lease)) }

  var count: Int { peers.count }
}

/// How a `PeerIndex` names a lease.
protocol PeerKey: Hashable {
  init(_ lease: Lease)
}

extension IPv4Network: PeerKey {
  init(_ lease: Lease) { self = lease.subnet }
}

extension LeaseSubnets: PeerKey {
  init(_ lease: Lease) { self = lease.subnets }
}
