import Foundation

/// A node of the v2 keys API tree.
public struct EtcdV2Node: Sendable, Equatable {
  public let key: String
  /// nil for directories.
  public let value: String?
  public let dir: Bool
  /// Children of a directory (recursive gets nest them).
  public let nodes: [EtcdV2Node]
  public let createdIndex: UInt64
  public let modifiedIndex: UInt64
  public let expiration: Date?
  public let ttl: Int64?

  public init(
    key: String, value: String?, dir: Bool, nodes: [EtcdV2Node], createdIndex: UInt64,
    modifiedIndex: UInt64, expiration: Date?, ttl: Int64?
  ) {
    self.key = key
    self.value = value
    self.dir = dir
    self.nodes = nodes
    self.createdIndex = createdIndex
    self.modifiedIndex = modifiedIndex
    self.expiration = expiration
    self.ttl = ttl
  }
}

public struct EtcdV2Response: Sendable, Equatable {
  /// get, set, create, update, compareAndSwap, delete, expire, ...
  public let action: String
  public let node: EtcdV2Node?
  public let prevNode: EtcdV2Node?
  /// The `X-Etcd-Index` header: the store index when the answer was made.
  public let etcdIndex: UInt64

  public init(action: String, node: EtcdV2Node?, prevNode: EtcdV2Node?, etcdIndex: UInt64) {
    self.action = action
    self.node = node
    self.prevNode = prevNode
    self.etcdIndex = etcdIndex
  }
}
