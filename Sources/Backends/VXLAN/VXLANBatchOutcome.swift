import FlannelCore
import Logging
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// What a batch of vxlan changes left behind: a peer whose change the kernel refused is
/// rolled back (its neighbour, FDB entry and route deleted, so no half-programmed path is
/// left) and returned for the retry loop; a refused removal is only logged.
struct VXLANBatchOutcome<Family: VXLANFamily> {
  typealias Peer = VXLANPeer<Family>
  let batch: NetlinkBatch<VXLANEntryTag<Family.Subnet>>
  let changes: VXLANPeerChanges<Family>
  let logger: Logger

  /// `installing`: peers whose entries the batch added or replaced (a refused install is one
  /// of them; nothing here reads the whole index, so an event's batch costs what it changed).
  /// Returns the subnets to retry.
  func settle(installing: [Peer]) -> Set<Family.Subnet> {
    var failed: Set<Family.Subnet> = []
    let peers = Dictionary(
      installing.map { ($0.subnet, $0) }, uniquingKeysWith: { _, last in last })
    for (tag, error) in batch.failures {
      switch tag {
      case .install(let subnet):
        if failed.insert(subnet).inserted {
          let ip = peers[subnet].map { "\($0.publicIP)" } ?? "-"
          logger.error(
            "Failed to program \(Family.label)subnet \(subnet) (public IP \(ip)); will retry: \(error)"
          )
        }
      case .removal:
        if error.errno != ENOENT && error.errno != ESRCH { logger.warning("\(error)") }
      }
    }
    guard !failed.isEmpty else { return failed }
    let rollback = changes.socket.batch { (undo: NetlinkBatch<VXLANEntryTag<Family.Subnet>>) in
      for subnet in failed {
        // The entries of a peer that failed; its FDB entry stays when other peers use it.
        if let peer = peers[subnet] { changes.remove(peer, into: undo, users: 1) }
      }
    }
    for (_, error) in rollback.failures where error.errno != ENOENT && error.errno != ESRCH {
      logger.debug("roll back: \(error)")
    }
    return failed
  }

  /// One line per programmed subnet for a handful (an event), a summary for a first sync.
  static func logInstalled(
    _ installed: [Peer], failed: Set<Family.Subnet>, logger: Logger, timing: String = ""
  ) {
    let done = installed.filter { !failed.contains($0.subnet) }
    for peer in done {
      let text =
        "Programmed \(Family.label)subnet \(peer.subnet) via \(peer.publicIP)\(peer.direct ? " (direct)" : "")"
      done.count <= 16 ? logger.info("\(text)") : logger.debug("\(text)")
    }
    if done.count > 16 { logger.info("Programmed \(done.count) \(Family.label)subnets\(timing)") }
  }
}
