import FlannelCore
import Foundation

extension SubnetManager {
  /// flannel-behaviour §2.5: reuse the lease holding our PublicIP; else the previous subnets
  /// when nobody holds them; else a random pick among the first 100 free subnets (of each
  /// family on a dual-stack network, the key then naming both). The create is conditional,
  /// so two nodes racing for one subnet cannot both win it.
  func acquire(previous: LeaseSubnets?) async throws -> Lease {
    try await acquireWithListing(previous: previous).lease
  }

  /// Acquires, and returns the listing the decision was made on: taken before our own write,
  /// so a watch from its cursor misses nothing (our own write shows up as our own put).
  func acquireWithListing(previous: LeaseSubnets?) async throws -> (
    lease: Lease, listing: LeaseListing
  ) {
    var rng = SystemRandomNumberGenerator()
    let attrs = configuration.attrs
    let attempts = max(configuration.maxAcquireAttempts, 1)
    // On an IPv4 network only the IPv4 half of a previous subnet.env counts.
    let previous = network.ipv6 == nil ? previous.map { LeaseSubnets(ipv4: $0.ipv4) } : previous
    for _ in 1...attempts {
      let listing = try await registry.listLeases()
      listing.skipped.forEach(warnSkipped)
      // With an IPv4-only config a lease of ours whose key also names an IPv6 subnet (left by
      // stock with EnableIPv6) no longer fits, and is deleted under its full key, as stock
      // does, rather than reused under a second, IPv4-only key; with EnableIPv6 an IPv4-only
      // lease of ours no longer fits either.
      let plan = try SubnetAllocator.planSubnets(
        config: network, existing: listing.leases, publicIP: configuration.publicIP,
        publicIPv6: configuration.publicIPv6, previous: previous, using: &rng)
      for stale in plan.staleLeases {
        logger.warning(
          "Deleting lease \(stale) of this node's IP \(nodeAddress): it no longer fits the network config"
        )
        try await registry.deleteLease(stale)
      }
      let subnets: LeaseSubnets
      switch plan.decision {
      case .reuse(let found):
        let ttl = listing.reservations.contains(found.subnets) ? 0 : configuration.leaseTTL
        let expiration = try await registry.updateLease(found.subnets, attrs: attrs, ttl: ttl)
        logger.info(
          "Found lease (\(found.subnets)) for current IP (\(nodeAddress)), reusing")
        let lease = Lease(
          subnet: found.subnet, ipv6Subnet: found.ipv6Subnet, attrs: attrs, expiration: expiration)
        return (adopt(lease), listing)
      case .previous(let s):
        subnets = s
      case .fresh(let s):
        subnets = s
      }
      switch try await registry.createLease(subnets, attrs: attrs, ttl: configuration.leaseTTL) {
      case .created(let expiration):
        logger.info(
          "Allocated lease (\(subnets)) to current node (\(nodeAddress)) through etcd \(registry.apiName)"
        )
        let lease = Lease(
          subnet: subnets.ipv4, ipv6Subnet: subnets.ipv6, attrs: attrs, expiration: expiration)
        return (adopt(lease), listing)
      case .exists:
        logger.debug("Subnet \(subnets) was taken by another node meanwhile; trying again")
      }
    }
    throw SubnetManagerError.maxRetriesReached(attempts: attempts)
  }

  /// The address that makes a lease ours (`isOwnAddress`), for log lines.
  private var nodeAddress: String {
    network.enableIPv4
      ? "\(configuration.publicIP)" : configuration.publicIPv6.map { "\($0)" } ?? "-"
  }

  /// Makes `lease` ours: the own subnet leaves the table of other nodes (with the next
  /// publication).
  private func adopt(_ lease: Lease) -> Lease {
    ownLease = lease
    displaced = known(lease.subnets)
    return lease
  }

  /// Our key was deleted, expired, or taken: lease again (the same subnet when it is still
  /// free), retrying with backoff while etcd is unreachable, and publish the change.
  func reacquire(reason: String) async {
    let lost = ownLease
    logger.warning(
      "Lease \(lost.map { "\($0.subnets)" } ?? "-") lost (\(reason)); acquiring a lease again")
    renewTask?.cancel()
    var backoff = Backoff(initial: configuration.backoffInitial, max: configuration.backoffMax)
    while !Task.isCancelled {
      do {
        let lease = try await acquire(previous: lost?.subnets)
        stats.reacquisitions += 1
        if lease.subnets == lost?.subnets {
          logger.warning("Lease \(lease.subnets) re-acquired")
        } else {
          logger.warning(
            "Lease moved from \(lost.map { "\($0.subnets)" } ?? "-") to \(lease.subnets): containers on this node need the new subnet"
          )
        }
        // A stale lease of another node on the subnet we now hold leaves the table; another
        // node's lease on the subnet we left is announced again: subscribers refused it
        // while that subnet was ours.
        var events = displaced.map { [LeaseEvent.removed($0)] } ?? []
        displaced = nil
        if let old = lost?.subnets, old != lease.subnets, let other = known(old) {
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
