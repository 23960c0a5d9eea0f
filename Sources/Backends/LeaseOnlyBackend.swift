import FlannelCore
import SubnetManager

/// Publishes the lease attributes and MTU of a backend whose kernel side is not wired in
/// yet; it programs nothing. Replaced type by type as the real backends land.
final class LeaseOnlyBackend: Backend {
  let attributes: BackendLeaseAttributes

  init(attributes: BackendLeaseAttributes) { self.attributes = attributes }

  func prepare() async throws -> BackendLeaseAttributes { attributes }
  func configure(ownLease: Lease) async throws {}
  func apply(_ update: LeaseUpdate) async {}
  func stop() async {}
}
