import Etcd
import FlannelCore
import Foundation

/// Leases through the etcd v2 keys API (stock flanneld ≤ v0.17). Values are written in the
/// v0.10 JSON form, keys carry their TTL, and a watch is a chain of long polls.
public struct EtcdV2LeaseRegistry: LeaseRegistry {
  public let client: EtcdV2Client
  let keys: LeaseKeys
  public var apiName: String { "v2" }

  public init(client: EtcdV2Client, prefix: String) {
    self.client = client
    self.keys = LeaseKeys(prefix: prefix)
  }

  public func networkConfig() async throws -> String? {
    do {
      return try await client.get(keys.config, quorum: true).node?.value
    } catch let EtcdError.v2(error) where error.errorCode == EtcdV2Error.keyNotFound {
      return nil
    }
  }

  public func listLeases() async throws -> LeaseListing {
    let response: EtcdV2Response
    do {
      response = try await client.get(keys.subnetsDirectory, recursive: true, quorum: true)
    } catch let EtcdError.v2(error) where error.errorCode == EtcdV2Error.keyNotFound {
      // No lease yet: the cursor is the index etcd reported with the error.
      return LeaseListing(leases: [], reservations: [], cursor: Int64(error.index), skipped: [])
    }
    var listing = LeaseListing(
      leases: [], reservations: [], cursor: Int64(response.etcdIndex), skipped: [])
    for node in response.node?.nodes ?? [] where !node.dir {
      switch decodeLease(key: node.key, value: node.value ?? "", expiration: node.expiration) {
      case .success(let lease):
        listing.leases.append(lease)
        if node.ttl == nil && node.expiration == nil { listing.reservations.insert(lease.subnets) }
      case .failure(let skipped):
        listing.skipped.append(skipped)
      }
    }
    return listing
  }

  public func createLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws
    -> LeaseCreation
  {
    do {
      let response = try await client.set(
        keys.subnet(subnets), value: attrs.json(style: .v010), ttl: ttl > 0 ? ttl : nil,
        prevExist: false)
      return .created(expiration: response.node?.expiration)
    } catch let EtcdError.v2(error) where error.errorCode == EtcdV2Error.nodeExists {
      return .exists
    }
  }

  public func updateLease(_ subnets: LeaseSubnets, attrs: LeaseAttrs, ttl: Int64) async throws
    -> Date?
  {
    let response = try await client.set(
      keys.subnet(subnets), value: attrs.json(style: .v010), ttl: ttl > 0 ? ttl : nil)
    return response.node?.expiration
  }

  public func deleteLease(_ subnets: LeaseSubnets) async throws {
    do {
      _ = try await client.delete(keys.subnet(subnets))
    } catch let EtcdError.v2(error) where error.errorCode == EtcdV2Error.keyNotFound {
      return
    }
  }

  public func watchLeases(after cursor: Int64) -> AsyncThrowingStream<LeaseWatchBatch, any Error> {
    let client = self.client
    let directory = keys.subnetsDirectory
    return AsyncThrowingStream { continuation in
      let task = Task {
        var index = UInt64(max(cursor, 0))
        do {
          while !Task.isCancelled {
            let response: EtcdV2Response
            do {
              response = try await client.watch(directory, recursive: true, waitIndex: index + 1)
            } catch let EtcdError.v2(error) where error.errorCode == EtcdV2Error.eventIndexCleared {
              throw LeaseWatchError.resyncNeeded("etcd v2 error 401: \(error.message)")
            }
            guard let node = response.node else { continue }
            index = max(index, node.modifiedIndex)
            var changes: [LeaseChange] = []
            if !node.dir {
              switch response.action {
              case "delete", "expire", "compareAndDelete":
                if let subnets = deletedSubnets(key: node.key) { changes.append(.deleted(subnets)) }
              default:
                switch decodeLease(
                  key: node.key, value: node.value ?? "", expiration: node.expiration)
                {
                case .success(let lease): changes.append(.put(lease))
                case .failure(let skipped): changes.append(.skipped(skipped))
                }
              }
            }
            continuation.yield(LeaseWatchBatch(changes: changes, cursor: Int64(index)))
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}
