import Etcd
import FlannelCore
import Foundation

/// The raw lease operations of one etcd API (v3 or v2), as the subnet manager needs them.
///
/// A registry turns subnets and lease attributes into keys and values and back; it knows
/// nothing about allocation or renewal. One implementation per API, so a node joins a
/// cluster of stock flanneld of either generation.
public protocol LeaseRegistry: Sendable {
  /// "v3" or "v2", for logs and errors.
  var apiName: String { get }
  /// The JSON written at `<prefix>/config`, or nil when the key does not exist.
  func networkConfig() async throws -> String?
  /// Every lease under `<prefix>/subnets`, and the cursor a watch resumes after.
  func listLeases() async throws -> LeaseListing
  /// Creates the lease only when nobody holds the key (`<v4>-<len>`, or `<v4>-<len>&<v6>-<len>`
  /// when `subnets` has an IPv6 part).
  func createLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws
    -> LeaseCreation
  /// Writes the lease unconditionally; ttl 0 keeps it a reservation. Returns the expiration.
  func updateLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws -> Date?
  /// Deletes the key of `subnets` (a stock dual-stack key names both halves).
  func deleteLease(_ subnets: LeaseSubnets) async throws
  /// Changes under `<prefix>/subnets` after `cursor`. The stream throws
  /// `LeaseWatchError.resyncNeeded` when etcd no longer has that history (v3 compaction,
  /// v2 error 401) and any other error when the connection drops; the caller resumes.
  func watchLeases(after cursor: Int64) -> AsyncThrowingStream<LeaseWatchBatch, any Error>
}

public enum LeaseCreation: Sendable, Equatable {
  /// Written; the expiration is nil for a reservation (ttl 0).
  case created(expiration: Date?)
  /// Somebody holds the key already.
  case exists
}

/// A snapshot of the leases in etcd.
public struct LeaseListing: Sendable {
  public var leases: [Lease]
  /// Keys without TTL (v2) or etcd lease (v3): operator reservations.
  public var reservations: Set<LeaseSubnets>
  /// v3: the header revision; v2: X-Etcd-Index.
  public var cursor: Int64
  /// Keys whose name or value did not parse, with why.
  public var skipped: [SkippedKey]
}

public struct SkippedKey: Error, Sendable, Equatable {
  public var key: String
  public var reason: String
}

/// What changed, in etcd's order.
public enum LeaseChange: Sendable, Equatable {
  case put(Lease)
  case deleted(LeaseSubnets)
  case skipped(SkippedKey)
}

public struct LeaseWatchBatch: Sendable {
  public var changes: [LeaseChange]
  /// The cursor after these changes: the next watch starts after it.
  public var cursor: Int64
}

public enum LeaseWatchError: Error, Sendable, CustomStringConvertible {
  /// etcd no longer holds the history from the cursor on: re-list and diff.
  case resyncNeeded(String)

  public var description: String {
    switch self {
    case .resyncNeeded(let why): return "watch history is gone (\(why)); re-listing leases"
    }
  }
}

/// Key layout shared by both APIs (flannel-behaviour §2.1).
struct LeaseKeys: Sendable {
  let prefix: String

  init(prefix: String) {
    var p = prefix
    if !p.hasPrefix("/") { p = "/" + p }
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    self.prefix = p
  }

  var config: String { prefix + "/config" }
  var subnetsDirectory: String { prefix + "/subnets" }
  func subnet(_ subnets: LeaseSubnets) -> String {
    subnetsDirectory + "/" + SubnetKey.format(subnets)
  }
}

extension LeaseRegistry {
  /// Creates the IPv4-only key of `subnet`.
  public func createLease(_ subnet: IPv4Network, attrs: LeaseAttrs, ttl: Int64) async throws
    -> LeaseCreation
  {
    try await createLease(LeaseSubnets(ipv4: subnet), attrs: attrs, ttl: ttl)
  }

  /// Writes the IPv4-only key of `subnet`.
  public func updateLease(_ subnet: IPv4Network, attrs: LeaseAttrs, ttl: Int64) async throws
    -> Date?
  {
    try await updateLease(LeaseSubnets(ipv4: subnet), attrs: attrs, ttl: ttl)
  }

  /// Deletes the IPv4-only key of `subnet`.
  public func deleteLease(_ subnet: IPv4Network) async throws {
    try await deleteLease(LeaseSubnets(ipv4: subnet))
  }
}

/// The subnets a deleted key held, as the table knows them; nil for keys that are not a
/// subnet.
func deletedSubnets(key: String) -> LeaseSubnets? {
  SubnetKey.parseSubnets(key)
}

/// Decodes one key/value pair into a lease, or says why it is skipped.
func decodeLease(key: String, value: String, expiration: Date?) -> Result<Lease, SkippedKey> {
  guard let subnets = SubnetKey.parseSubnets(key) else {
    return .failure(SkippedKey(key: key, reason: "the key is not a subnet (want a.b.c.d-len)"))
  }
  // An IPv6-only lease's key (0.0.0.0-0&<v6>-<len>) is read as it is; the subnet manager
  // keeps leases of the families its network lacks out of the table (`LeaseFamilies`).
  guard !subnets.ipv4IsEmpty || subnets.ipv6 != nil else {
    return .failure(
      SkippedKey(key: key, reason: "it names neither an IPv4 nor an IPv6 subnet"))
  }
  let subnet = subnets.ipv4
  do {
    let attrs = try LeaseAttrs.decode(value)
    return .success(
      Lease(subnet: subnet, ipv6Subnet: subnets.ipv6, attrs: attrs, expiration: expiration))
  } catch {
    return .failure(SkippedKey(key: key, reason: "the value is not a lease: \(error)"))
  }
}
