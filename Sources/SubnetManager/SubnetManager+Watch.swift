import FlannelCore
import Foundation

extension SubnetManager {
  /// Lists once, then follows the watch from the listing's cursor. A dropped connection
  /// resumes after the last applied cursor (nothing lost, nothing doubled); lost history
  /// (v3 compaction, v2 error 401) re-lists and diffs against what we have.
  func watchLoop() async {
    var backoff = Backoff(initial: configuration.backoffInitial, max: configuration.backoffMax)
    while !Task.isCancelled {
      do {
        if watchCursor == nil {
          let started = ContinuousClock.now
          let listing = try await registry.listLeases()
          stats.listings += 1
          watchCursor = listing.cursor
          let ownMissing = resync(with: listing)
          logger.info(
            "Synced \(leaseCount) leases of other nodes through etcd \(registry.apiName) in \(ContinuousClock.now - started)"
          )
          if ownMissing {
            await reacquire(reason: "its key is gone from etcd or held by another node")
          }
        }
        for try await batch in registry.watchLeases(after: watchCursor!) {
          backoff.reset()
          watchCursor = batch.cursor
          await apply(batch.changes)
        }
        if Task.isCancelled { return }
      } catch LeaseWatchError.resyncNeeded(let why) {
        stats.historyLost += 1
        logger.warning("Watch subnets: \(why); re-listing")
        watchCursor = nil
      } catch {
        if Task.isCancelled { return }
        stats.watchErrors += 1
        let delay = backoff.take()
        logger.warning("Watch subnets: \(error) (retrying in \(delay))")
        try? await Task.sleep(for: delay)
      }
    }
  }

  /// Stops following etcd, keeping the cursor (tests use it to make history go missing
  /// deterministically; a partitioned node is in the same state).
  func pauseWatch() async {
    let task = watchTask
    watchTask = nil
    task?.cancel()
    await task?.value
  }

  /// Follows etcd again with a fresh listing, as after lost history (tests).
  func resumeWatchAfterResync() {
    watchCursor = nil
    resumeWatch()
  }

  /// Follows etcd again from the kept cursor.
  func resumeWatch() {
    guard watchTask == nil else { return }
    watchTask = Task { await self.watchLoop() }
  }

  /// Replaces the table with a fresh listing and publishes the difference. Returns true when
  /// our own key is missing from the listing or another node holds it.
  func resync(with listing: LeaseListing) -> Bool {
    let initial = leaseCount == 0
    let events = replaceTable(with: listing)
    for event in events { log(event, quietly: initial) }
    // Events may have been missed while the watch was away: subscribers reconcile.
    publish(events: events, ownLeaseChanged: false, reconcile: true)
    guard let own = ownLease else { return false }
    // Missing, or held by another node now (its write over ours went by unseen).
    return !listing.leases.contains { $0.subnets == own.subnets && isOwnAddress($0) }
  }

  /// The lease names this node's address: PublicIP, or on an IPv6-only network (where every
  /// node writes PublicIP 0.0.0.0) PublicIPv6.
  func isOwnAddress(_ lease: Lease) -> Bool {
    network.enableIPv4
      ? lease.attrs.publicIP == configuration.publicIP
      : lease.attrs.publicIPv6 == configuration.publicIPv6
  }

  /// True when `lease` may enter the table; else warns once (per key) and says no.
  private func admits(_ lease: Lease) -> Bool {
    guard let reason = LeaseFamilies(network: network).refusal(of: lease) else { return true }
    warnSkipped(SkippedKey(key: SubnetKey.format(lease.subnets), reason: reason))
    return false
  }

  /// What makes the table equal to a listing (without our own lease); publishing the
  /// events applies them.
  func replaceTable(with listing: LeaseListing) -> [LeaseEvent] {
    listing.skipped.forEach(warnSkipped)
    var fresh: [LeaseSubnets: Lease] = [:]
    fresh.reserveCapacity(listing.leases.count)
    for lease in listing.leases where lease.subnets != ownLease?.subnets && admits(lease) {
      fresh[lease.subnets] = lease
    }
    return broadcaster.withTable { table in
      var events: [LeaseEvent] = []
      table.forEach { old in
        if fresh[old.subnets] == nil { events.append(.removed(old)) }
      }
      for (subnets, lease) in fresh where !sameLease(table[subnets], lease) {
        events.append(.added(lease))
      }
      return events
    }
  }

  /// Applies watch changes in order and publishes them as one update.
  func apply(_ changes: [LeaseChange]) async {
    var events: [LeaseEvent] = []
    // What the earlier changes of this batch did (the table takes them when published).
    var pending: [LeaseSubnets: Lease?] = [:]
    func current(_ subnets: LeaseSubnets) -> Lease? { pending[subnets] ?? known(subnets) }
    func remove(_ subnets: LeaseSubnets) {
      guard let old = current(subnets) else { return }
      pending[subnets] = .some(nil)
      events.append(.removed(old))
    }
    var lostReason: String? = nil
    for change in changes {
      switch change {
      case .put(let lease):
        if let own = ownLease, lease.subnets == own.subnets {
          if isOwnAddress(lease) {
            // Our own write (or a renewal echo): keep the freshest expiration we know.
            if let expiration = lease.expiration { ownLease?.expiration = expiration }
            continue
          }
          let writer =
            network.enableIPv4
            ? "\(lease.attrs.publicIP)" : lease.attrs.publicIPv6.map { "\($0)" } ?? "-"
          lostReason = "\(writer) wrote its own lease over our key"
        }
        guard admits(lease) else {
          remove(lease.subnets)
          continue
        }
        if !sameLease(current(lease.subnets), lease) {
          pending[lease.subnets] = .some(lease)
          events.append(.added(lease))
        }
      case .deleted(let subnets):
        if subnets == ownLease?.subnets {
          lostReason = "its key was deleted or expired"
        } else {
          remove(subnets)
        }
      case .skipped(let skipped):
        warnSkipped(skipped)
      }
    }
    for event in events { log(event, quietly: false) }
    if !events.isEmpty { publish(events: events, ownLeaseChanged: false) }
    if let lostReason { await reacquire(reason: lostReason) }
  }

  /// Equal as far as routing goes: expiration alone changing (a renewal) is not an event.
  func sameLease(_ a: Lease?, _ b: Lease) -> Bool {
    guard let a else { return false }
    return a.subnet == b.subnet && a.ipv6Subnet == b.ipv6Subnet && a.attrs == b.attrs
  }

  func log(_ event: LeaseEvent, quietly: Bool) {
    switch event {
    case .added(let lease):
      let text =
        "Subnet added: \(routeText(lease))"
        + (lease.attrs.backendType.isEmpty ? "" : " (\(lease.attrs.backendType))")
      quietly ? logger.debug("\(text)") : logger.info("\(text)")
    case .removed(let lease):
      let text = "Subnet removed: \(routeText(lease))"
      quietly ? logger.debug("\(text)") : logger.info("\(text)")
    }
  }

  /// "<subnet> via <PublicIP>", then ", <IPv6 subnet> via <PublicIPv6>" for a dual-stack
  /// lease; the IPv6 part only for an IPv6-only one.
  private func routeText(_ lease: Lease) -> String {
    let ipv4 = "\(lease.subnet) via \(lease.attrs.publicIP)"
    guard let subnet = lease.ipv6Subnet else { return ipv4 }
    let ipv6 = "\(subnet) via \(lease.attrs.publicIPv6.map { "\($0)" } ?? "-")"
    return lease.subnets.ipv4IsEmpty ? ipv6 : "\(ipv4), \(ipv6)"
  }
}
