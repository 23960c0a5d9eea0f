import FlannelCore
import Logging
import Netlink

/// One vxlan device of the backend (`flannel.<VNI>` for IPv4, `flannel-v6.<VNI>` for IPv6)
/// and the bookkeeping of the entries it carries: its index and MAC once it exists, how many
/// peers use each FDB entry, and which subnets failed (the retry loop's work).
struct VXLANDeviceEntries<Family: VXLANFamily> {
  typealias Peer = VXLANPeer<Family>

  let deviceName: String
  /// The Network (IPv4) or IPv6Network this device's subnets come from.
  let network: Family.Subnet
  /// Routes through nexthop objects (IPv4 only, when the kernel has them).
  let nexthops: Bool
  var deviceIndex: Int?
  /// The MAC published in our lease; a recreated device gets it again.
  var vtepMAC: MACAddress?
  /// How many current peers use each FDB entry (`VXLANPeerChanges.fdbUsers`).
  var fdbUsers: [Peer.FDBKey: Int] = [:]
  var failed: Set<Family.Subnet> = []

  init(deviceName: String, network: Family.Subnet, nexthops: Bool) {
    self.deviceName = deviceName
    self.network = network
    self.nexthops = nexthops
  }

  mutating func count(_ peer: Peer?, _ delta: Int) {
    guard let peer, !peer.direct else { return }
    let users = fdbUsers[peer.fdbKey, default: 0] + delta
    fdbUsers[peer.fdbKey] = users > 0 ? users : nil
  }

  /// The full reconcile of this device against `peers`.
  mutating func sync(
    _ peers: some Sequence<Peer>, socket: NetlinkSocket, directRouting: Bool, logger: Logger
  ) {
    guard let device = deviceIndex else { return }
    failed = VXLANReconciler<Family>(
      socket: socket, device: device, deviceName: deviceName, network: network,
      directRouting: directRouting, nexthops: nexthops, fdbUsers: fdbUsers, logger: logger
    ).sync(Self.bySubnet(peers))
  }

  /// Exactly the entries of the peers that changed (old → new), in one netlink batch: an
  /// event costs what it changes, never a pass over every peer.
  mutating func applyDelta(
    _ changes: [(old: Peer?, new: Peer?)], socket: NetlinkSocket, logger: Logger
  ) {
    guard let device = deviceIndex, !changes.isEmpty else { return }
    let entries = VXLANPeerChanges<Family>(
      socket: socket, device: device, nexthops: nexthops, fdbUsers: fdbUsers)
    var installing: [Peer] = []
    let batch = socket.batch { (batch: NetlinkBatch<VXLANEntryTag<Family.Subnet>>) in
      for change in changes {
        if let new = change.new {
          entries.replace(change.old, with: new, into: batch)
          installing.append(new)
        } else if let old = change.old {
          entries.remove(old, into: batch)
          logger.info("Removed \(Family.label)subnet \(old.subnet) via \(old.publicIP)")
        }
      }
    }
    let failures = VXLANBatchOutcome(batch: batch, changes: entries, logger: logger)
      .settle(installing: installing)
    VXLANBatchOutcome<Family>.logInstalled(installing, failed: failures, logger: logger)
    failed.formUnion(failures)
  }

  /// DirectRouting: the peer is reachable without a gateway (same L2 network), as stock's
  /// ip.DirectRouting decides it.
  func isOnLink(_ ip: Family.Address, socket: NetlinkSocket) -> Bool {
    guard let route = try? Family.routeGet(socket, ip) else { return false }
    return route.gateway == nil && route.outputIndex != deviceIndex
  }

  /// Leases' subnets do not overlap; should two claim one anyway, the first is kept.
  private static func bySubnet(_ peers: some Sequence<Peer>) -> [Family.Subnet: Peer] {
    Dictionary(peers.map { ($0.subnet, $0) }, uniquingKeysWith: { first, _ in first })
  }
}
