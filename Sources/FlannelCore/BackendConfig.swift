/// The `Backend` member of the network config: its lower-cased type and the object itself,
/// kept raw because each backend reads its own fields (Port, VNI, DirectRouting, …).
public struct BackendConfig: Sendable, Equatable {
  /// `Backend.Type` lower-cased; "udp" when Backend is absent, null or `{}`.
  public let type: String
  /// The Backend object as written; `.object([])` when absent or null.
  public let raw: JSONValue

  public init(type: String, raw: JSONValue = .object([])) {
    self.type = type
    self.raw = raw
  }

  /// A case-insensitive integer field; nil when absent or not a JSON integer (Go's decoder
  /// would reject 1.5 or "1" for an int field, so we do not coerce either).
  public func int(_ field: String) -> Int? {
    raw[caseInsensitive: field]?.int64Value.flatMap { Int(exactly: $0) }
  }

  public func string(_ field: String) -> String? {
    raw[caseInsensitive: field]?.stringValue
  }

  public func bool(_ field: String) -> Bool? {
    raw[caseInsensitive: field]?.boolValue
  }
}
