/// A JSON value that keeps object members in the order they were written, so flannel's
/// lease and backend JSON round-trips byte for byte (Foundation's JSONSerialization
/// neither keeps order nor tells 1 from 1.0 or true).
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([JSONMember])

  /// Looks a member up the way Go's encoding/json fills a struct field: a key matches if it
  /// equals `key` exactly or case-insensitively. When the object repeats a key, Go assigns
  /// each member in turn, so the last matching member wins; the exact-match preference of
  /// Go only decides between two struct fields that fold alike, which a single lookup
  /// never has to do. Returns nil when self is not an object or nothing matches.
  public subscript(caseInsensitive key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last(where: { Self.foldEqual($0.key, key) })?.value
  }

  /// Exact-key lookup (last member wins on duplicates).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last(where: { $0.key == key })?.value
  }

  static func foldEqual(_ a: String, _ b: String) -> Bool {
    a == b || a.lowercased() == b.lowercased()
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  public var int64Value: Int64? {
    if case .int(let i) = self { return i }
    return nil
  }

  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  public var isNull: Bool { self == .null }

  /// The JSON kind as Go's decoder names it in "cannot unmarshal <kind> into …" errors.
  public var kindName: String {
    switch self {
    case .null: "null"
    case .bool: "bool"
    case .int, .double: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Equatable {
  public var key: String
  public var value: JSONValue

  public init(_ key: String, _ value: JSONValue) {
    self.key = key
    self.value = value
  }
}

/// A JSON syntax error; the text says what was found and where (line:column and byte offset).
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}
