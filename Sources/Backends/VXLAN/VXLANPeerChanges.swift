import FlannelCore
import Netlink

/// The kernel changes that program, replace or remove one vxlan peer: for an encapsulated
/// peer its neighbour (G → M), FDB entry (M → P) and route (S via G onlink), in that order so
/// that the kernel never has to resolve G; for a direct peer only `S via P`.
struct VXLANPeerChanges {
  let socket: NetlinkSocket
  let device: Int
  /// Routes through one nexthop object per peer (`Nexthop` says why), else plain routes.
  let nexthops: Bool

  /// The route of `peer` in the form this node programs. A direct route stays plain: the
  /// kernel picks its device, which a nexthop object would have to name.
  func route(_ peer: VXLANPeer) -> Route {
    var route = peer.route(device: device)
    if nexthops && !peer.direct { route.nexthopID = peer.nexthopID }
    return route
  }

  /// Everything `new` needs, after removing what of `old` it does not replace.
  func replace(_ old: VXLANPeer?, with new: VXLANPeer, into batch: NetlinkBatch<VXLANEntryTag>) {
    if let old, !old.direct {
      let fdbMoves = new.direct || old.vtepMAC != new.vtepMAC || old.publicIP != new.publicIP
      let tag = VXLANEntryTag.removal(old.subnet)
      if fdbMoves { batch.add(socket.deleteFDBChange(old.fdb(device: device)), tag: tag) }
      if new.direct {
        batch.add(socket.deleteNeighbourChange(ip: old.gatewayAddress, linkIndex: device), tag: tag)
      }
    }
    install(new, into: batch)
  }

  /// Neighbour, FDB entry and route of `peer` (route only when direct). Replacing is
  /// idempotent: an entry that is already right stays as it is.
  func install(_ peer: VXLANPeer, into batch: NetlinkBatch<VXLANEntryTag>) {
    let tag = VXLANEntryTag.install(peer.subnet)
    if !peer.direct {
      batch.add(socket.replaceNeighbourChange(peer.neighbour(device: device)), tag: tag)
      batch.add(socket.replaceFDBChange(peer.fdb(device: device)), tag: tag)
    }
    let route = route(peer)
    if let nexthop = route.nexthop { batch.add(socket.replaceNexthopChange(nexthop), tag: tag) }
    batch.add(socket.replaceRouteChange(route), tag: tag)
  }

  /// Route first (nothing is sent towards G any more), then neighbour and FDB entry.
  func remove(_ peer: VXLANPeer, into batch: NetlinkBatch<VXLANEntryTag>) {
    let tag = VXLANEntryTag.removal(peer.subnet)
    let route = route(peer)
    batch.add(socket.deleteRouteChange(route), tag: tag)
    if let id = route.nexthopID { batch.add(socket.deleteNexthopChange(id: id), tag: tag) }
    guard !peer.direct else { return }
    batch.add(socket.deleteNeighbourChange(ip: peer.gatewayAddress, linkIndex: device), tag: tag)
    batch.add(socket.deleteFDBChange(peer.fdb(device: device)), tag: tag)
  }
}

/// Which subnet a change in a vxlan batch is for, and whether it programs the subnet (a
/// refusal is retried) or removes something (a refusal is only logged; "already gone" is
/// not a failure at all).
enum VXLANEntryTag {
  case install(IPv4Network)
  case removal(IPv4Network?)
}
