import FlannelCore
import Netlink

/// The kernel changes that program, replace or remove one vxlan peer: for an encapsulated
/// peer its neighbour (G → M), FDB entry (M → P) and route (S via G onlink), in that order so
/// that the kernel never has to resolve G; for a direct peer only `S via P`.
struct VXLANPeerChanges<Family: VXLANFamily> {
  typealias Peer = VXLANPeer<Family>
  typealias Tag = VXLANEntryTag<Family.Subnet>

  let socket: NetlinkSocket
  let device: Int
  /// Routes through one nexthop object per peer (`Nexthop` says why), else plain routes.
  let nexthops: Bool
  /// How many current peers use each FDB entry: one node may hold several leases (or an old
  /// lease not yet expired), and their entry goes only with the last of them.
  let fdbUsers: [Peer.FDBKey: Int]

  /// The route of `peer` in the form this node programs. A direct route stays plain: the
  /// kernel picks its device, which a nexthop object would have to name.
  func route(_ peer: Peer) -> Family.KernelRoute {
    guard nexthops, !peer.direct, let id = peer.nexthopID else { return peer.route(device: device) }
    return Family.route(
      to: peer.subnet, via: peer.gatewayAddress, device: device, onlink: true, nexthopID: id)
  }

  /// Everything `new` needs, after removing what of `old` it does not replace.
  func replace(_ old: Peer?, with new: Peer, into batch: NetlinkBatch<Tag>) {
    if let old, !old.direct {
      let tag = Tag.removal(old.subnet)
      if fdbUsers[old.fdbKey, default: 0] == 0 {
        batch.add(socket.deleteFDBChange(old.fdb(device: device)), tag: tag)
      }
      if new.direct {
        batch.add(socket.deleteNeighbourChange(ip: old.gatewayAddress, linkIndex: device), tag: tag)
        if let id = route(old).nexthopID {
          batch.add(socket.deleteNexthopChange(id: id), tag: tag)
        }
      }
    }
    install(new, into: batch)
  }

  /// Neighbour, FDB entry and route of `peer` (route only when direct). Replacing is
  /// idempotent: an entry that is already right stays as it is.
  func install(_ peer: Peer, into batch: NetlinkBatch<Tag>) {
    let tag = Tag.install(peer.subnet)
    if !peer.direct {
      batch.add(socket.replaceNeighbourChange(peer.neighbour(device: device)), tag: tag)
      batch.add(socket.replaceFDBChange(peer.fdb(device: device)), tag: tag)
    }
    let route = route(peer)
    if let nexthop = route.nexthop {
      batch.add(socket.replaceNexthopChange(nexthop), tag: tag)
    }
    batch.add(route.replaceChange(socket), tag: tag)
  }

  /// Route first (nothing is sent towards G any more), then neighbour and FDB entry (unless
  /// another peer still uses it: `users` current peers besides this one may). The route is
  /// deleted in its plain form and through its nexthop object: the kernel may hold either
  /// (stock flanneld and runs without nexthop objects leave plain routes, which a restart
  /// keeps), and a delete of one form never matches the other.
  func remove(_ peer: Peer, into batch: NetlinkBatch<Tag>, users: Int = 0) {
    let tag = Tag.removal(peer.subnet)
    batch.add(peer.route(device: device).deleteChange(socket), tag: tag)
    if let id = route(peer).nexthopID {
      batch.add(socket.deleteNexthopChange(id: id), tag: tag)
    }
    guard !peer.direct else { return }
    batch.add(socket.deleteNeighbourChange(ip: peer.gatewayAddress, linkIndex: device), tag: tag)
    if fdbUsers[peer.fdbKey, default: 0] <= users {
      batch.add(socket.deleteFDBChange(peer.fdb(device: device)), tag: tag)
    }
  }
}

/// Which subnet a change in a vxlan batch is for, and whether it programs the subnet (a
/// refusal is retried) or removes something (a refusal is only logged; "already gone" is
/// not a failure at all).
enum VXLANEntryTag<Subnet> {
  case install(Subnet)
  case removal(Subnet?)
}
