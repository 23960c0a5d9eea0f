/// One key as the v3 API stores it (key and value as UTF-8 text).
public struct EtcdKeyValue: Sendable, Equatable {
  public let key: String
  public let value: String
  public let createRevision: Int64
  public let modRevision: Int64
  public let version: Int64
  /// The attached lease ID, 0 for none.
  public let lease: Int64

  public init(
    key: String, value: String, createRevision: Int64, modRevision: Int64, version: Int64,
    lease: Int64
  ) {
    self.key = key
    self.value = value
    self.createRevision = createRevision
    self.modRevision = modRevision
    self.version = version
    self.lease = lease
  }
}

public struct EtcdV3WatchEvent: Sendable, Equatable {
  public enum Kind: Sendable { case put, delete }
  public let kind: Kind
  /// For a delete: the key and the deletion revision (`modRevision`); value empty.
  public let kv: EtcdKeyValue

  public init(kind: Kind, kv: EtcdKeyValue) {
    self.kind = kind
    self.kv = kv
  }
}

public struct EtcdV3WatchResponse: Sendable, Equatable {
  /// The response header revision: resume from `revision + 1`.
  public let revision: Int64
  /// Empty for a progress notification.
  public let events: [EtcdV3WatchEvent]

  public init(revision: Int64, events: [EtcdV3WatchEvent]) {
    self.revision = revision
    self.events = events
  }
}
