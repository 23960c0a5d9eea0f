import FlannelCore
import Foundation

extension SubnetManager {
  /// (Re)arms the renewal of the own lease at expiration − margin (§2.4). A reservation
  /// (no expiration) is never renewed.
  func scheduleRenewal() {
    renewTask?.cancel()
    renewTask = Task { await self.renewLoop() }
  }

  private func renewLoop() async {
    while !Task.isCancelled {
      guard let lease = ownLease, let expiration = lease.expiration else { return }
      let wait = expiration.timeIntervalSinceNow - configuration.renewMargin.seconds
      if wait > 0 {
        logger.debug("Waiting \(Int(wait)) s to renew lease \(lease.subnets)")
        do { try await Task.sleep(for: .seconds(wait)) } catch { return }
      }
      do {
        let renewed = try await registry.updateLease(
          lease.subnets, attrs: lease.attrs, ttl: configuration.leaseTTL)
        guard ownLease?.subnets == lease.subnets else { return }
        ownLease?.expiration = renewed
        stats.renewals += 1
        logger.info(
          "Lease renewed, new expiration: \(renewed.map { "\($0)" } ?? "none (reservation)")")
      } catch {
        if Task.isCancelled { return }
        stats.renewalErrors += 1
        logger.error(
          "Error renewing lease (trying again in \(configuration.renewRetryInterval)): \(error)")
        do { try await Task.sleep(for: configuration.renewRetryInterval) } catch { return }
      }
    }
  }
}

extension Duration {
  /// Whole and fractional seconds as a Double.
  var seconds: Double {
    let (s, attos) = components
    return Double(s) + Double(attos) / 1e18
  }
}
