import Foundation

/// One host's claim on a subnet.
public struct Lease: Sendable, Equatable {
  public var subnet: IPv4Network
  public var attrs: LeaseAttrs
  /// nil for a reservation (a key without TTL / etcd lease) or when unknown.
  public var expiration: Date?

  public init(subnet: IPv4Network, attrs: LeaseAttrs, expiration: Date?) {
    self.subnet = subnet
    self.attrs = attrs
    self.expiration = expiration
  }
}
