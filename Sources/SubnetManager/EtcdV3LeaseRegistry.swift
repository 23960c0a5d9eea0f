import Etcd
import FlannelCore
import Foundation

/// Leases through the etcd v3 API (stock flanneld ≥ v0.18). Values are written in the HEAD
/// JSON form; a lease's TTL is an etcd lease granted per write, as stock does.
///
/// Remote leases are listed without a TimeToLive call per key (stock v0.20 makes one per key
/// and needs seconds for thousands of nodes): their expiration is left unknown, and only
/// whether a key has an etcd lease at all (reservation or not) is kept.
public struct EtcdV3LeaseRegistry: LeaseRegistry {
  public let client: EtcdV3Client
  let keys: LeaseKeys
  public var apiName: String { "v3" }

  public init(client: EtcdV3Client, prefix: String) {
    self.client = client
    self.keys = LeaseKeys(prefix: prefix)
  }

  public func networkConfig() async throws -> String? {
    try await client.get(keys.config).kv?.value
  }

  public func listLeases() async throws -> LeaseListing {
    let (kvs, revision) = try await client.range(prefix: keys.subnetsDirectory + "/")
    var listing = LeaseListing(leases: [], reservations: [], cursor: revision, skipped: [])
    listing.leases.reserveCapacity(kvs.count)
    for kv in kvs {
      switch decodeLease(key: kv.key, value: kv.value, expiration: nil) {
      case .success(let lease):
        listing.leases.append(lease)
        if kv.lease == 0 { listing.reservations.insert(lease.subnets) }
      case .failure(let skipped):
        listing.skipped.append(skipped)
      }
    }
    return listing
  }

  public func createLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws
    -> LeaseCreation
  {
    let value = attrs.json(style: .head)
    let key = keys.subnet(subnets)
    guard ttl > 0 else {
      return try await client.createIfAbsent(key, value: value)
        ? .created(expiration: nil) : .exists
    }
    let grant = try await client.grantLease(ttl: ttl)
    let expiration = Date().addingTimeInterval(TimeInterval(grant.ttl))
    if try await client.createIfAbsent(key, value: value, lease: grant.id) {
      return .created(expiration: expiration)
    }
    try? await client.revokeLease(grant.id)
    return .exists
  }

  public func updateLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws
    -> Date?
  {
    let value = attrs.json(style: .head)
    let key = keys.subnet(subnets)
    guard ttl > 0 else {
      try await client.put(key, value: value)
      return nil
    }
    // As stock: a fresh etcd lease per renewal; the previous one simply expires.
    let grant = try await client.grantLease(ttl: ttl)
    try await client.put(key, value: value, lease: grant.id)
    return Date().addingTimeInterval(TimeInterval(grant.ttl))
  }

  public func deleteLease(_ subnets: LeaseSubnets) async throws {
    try await client.delete(keys.subnet(subnets))
  }

  public func watchLeases(after cursor: Int64) -> AsyncThrowingStream<LeaseWatchBatch, any Error> {
    let stream = client.watch(prefix: keys.subnetsDirectory + "/", startRevision: cursor + 1)
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          for try await response in stream {
            var changes: [LeaseChange] = []
            changes.reserveCapacity(response.events.count)
            for event in response.events {
              switch event.kind {
              case .put:
                switch decodeLease(key: event.kv.key, value: event.kv.value, expiration: nil) {
                case .success(let lease): changes.append(.put(lease))
                case .failure(let skipped): changes.append(.skipped(skipped))
                }
              case .delete:
                if let subnets = deletedSubnets(key: event.kv.key) {
                  changes.append(.deleted(subnets))
                }
              }
            }
            continuation.yield(LeaseWatchBatch(changes: changes, cursor: response.revision))
          }
          continuation.finish(throwing: EtcdWatchEnded())
        } catch let EtcdError.compacted(compactRevision) {
          continuation.finish(
            throwing: LeaseWatchError.resyncNeeded(
              "revision \(cursor + 1) was compacted at \(compactRevision)"))
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

/// A watch stream that ended without an error still needs resuming.
struct EtcdWatchEnded: Error, CustomStringConvertible {
  var description: String { "the watch stream ended" }
}
