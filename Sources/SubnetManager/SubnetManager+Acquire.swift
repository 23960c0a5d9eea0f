import FlannelCore
import Foundation

extension SubnetManager {
  /// flannel-behaviour §2.5: reuse the lease holding our PublicIP; else the previous subnet
  /// when nobody holds it; else a random pick among the first 100 free subnets. The create
  /// is conditional, so two nodes racing for one subnet cannot both win it.
  func acquire(previousSubnet: IPv4Network?) async throws -> Lease {
    try await acquireWithListing(previousSubnet: previousSubnet).lease
  }

  /// Acquires, and returns the listing the decision was made on: taken before our own write,
  /// so a watch from its cursor misses nothing (our own write shows up as our own put).
  func acquireWithListing(previousSubnet: IPv4Network?) async throws -> (
    lease: Lease, listing: LeaseListing
  ) {
    var rng = SystemRandomNumberGenerator()
    let attrs = configuration.attrs
    let attempts = max(configuration.maxAcquireAttempts, 1)
    for _ in 1...attempts {
      let listing = try await registry.listLeases()
      listing.skipped.forEach(warnSkipped)
      // The dual-stack plan with this IPv4-only config: a lease of ours whose key also names
      // an IPv6 subnet (left by stock with EnableIPv6) no longer fits, and is deleted under
      // its full key, as stock does, rather than reused under a second, IPv4-only key.
      let plan = try SubnetAllocator.planSubnets(
        config: network, existing: listing.leases, publicIP: configuration.publicIP,
        publicIPv6: nil, previous: previousSubnet.map { LeaseSubnets(ipv4: $0) }, using: &rng)
      for stale in plan.staleLeases {
        logger.warning(
          "Deleting lease \(stale) of this node's IP \(configuration.publicIP): it no longer fits the network config"
        )
        try await registry.deleteLease(stale)
      }
      let subnet: IPv4Network
      switch plan.decision {
      case .reuse(let found):
        let ttl = listing.reservations.contains(found.subnet) ? 0 : configuration.leaseTTL
        let expiration = try await registry.updateLease(found.subnet, attrs: attrs, ttl: ttl)
        logger.info(
          "Found lease (\(found.subnet)) for current IP (\(configuration.publicIP)), reusing")
        return (adopt(Lease(subnet: found.subnet, attrs: attrs, expiration: expiration)), listing)
      case .previous(let s):
        subnet = s.ipv4
      case .fresh(let s):
        subnet = s.ipv4
      }
      switch try await registry.createLease(subnet, attrs: attrs, ttl: configuration.leaseTTL) {
      case .created(let expiration):
        logger.info(
          "Allocated lease (\(subnet)) to current node (\(configuration.publicIP)) through etcd \(registry.apiName)"
        )
        return (adopt(Lease(subnet: subnet, attrs: attrs, expiration: expiration)), listing)
      case .exists:
        logger.debug("Subnet \(subnet) was taken by another node meanwhile; trying again")
      }
    }
    throw SubnetManagerError.maxRetriesReached(attempts: attempts)
  }

  /// Makes `lease` ours: the own subnet leaves the table of other nodes (with the next
  /// publication).
  private func adopt(_ lease: Lease) -> Lease {
    ownLease = lease
    displaced = known(lease.subnet)
    return lease
  }

  /// Our key was deleted, expired, or taken: lease again (the same subnet when it is still
  /// free), retrying with backoff while etcd is unreachable, and publish the change.
  func reacquire(reason: String) async {
    let lost = ownLease
    logger.warning(
      "Lease \(lost.map { "\($0.subnet)" } ?? "-") lost (\(reason)); acquiring a lease again")
    renewTask?.cancel()
    var backoff = Backoff(initial: configuration.backoffInitial, max: configuration.backoffMax)
    while !Task.isCancelled {
      do {
        let lease = try await acquire(previousSubnet: lost?.subnet)
        stats.reacquisitions += 1
        if lease.subnet == lost?.subnet {
          logger.warning("Lease \(lease.subnet) re-acquired")
        } else {
          logger.warning(
            "Lease moved from \(lost.map { "\($0.subnet)" } ?? "-") to \(lease.subnet): containers on this node need the new subnet"
          )
        }
        // A stale lease of another node on the subnet we now hold leaves the table; another
        // node's lease on the subnet we left is announced again: subscribers refused it
        // while that subnet was ours.
        var events = displaced.map { [LeaseEvent.removed($0)] } ?? []
        displaced = nil
        if let old = lost?.subnet, old != lease.subnet, let other = known(old) {
          events.append(.added(other))
        }
        publish(events: events, ownLeaseChanged: true)
        scheduleRenewal()
        return
      } catch {
        let delay = backoff.take()
        logger.error("Re-acquiring a lease failed: \(error) (trying again in \(delay))")
        try? await Task.sleep(for: delay)
      }
    }
  }
}
