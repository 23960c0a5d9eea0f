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

  /// A case-insensitive integer field; nil when absent or null (Go's decoder then keeps the
  /// default). Anything else that is not a JSON integer — `1.5`, `789E1`, `"8285"` — is refused
  /// as Go's decoder refuses it for an int field, rather than read as absent.
  public func int(_ field: String) throws(BackendConfigError) -> Int? {
    guard let value = member(field) else { return nil }
    guard let int = value.int64Value.flatMap({ Int(exactly: $0) }) else {
      throw BackendConfigError(field: field, value: value, wanted: "a whole number without quotes")
    }
    return int
  }

  /// A case-insensitive string field; nil when absent or null, refused when of another type.
  public func string(_ field: String) throws(BackendConfigError) -> String? {
    guard let value = member(field) else { return nil }
    guard let string = value.stringValue else {
      throw BackendConfigError(field: field, value: value, wanted: "a string in double quotes")
    }
    return string
  }

  /// A case-insensitive boolean field; nil when absent or null, refused when of another type
  /// (Go does not read `"true"` or `1` as a bool either).
  public func bool(_ field: String) throws(BackendConfigError) -> Bool? {
    guard let value = member(field) else { return nil }
    guard let bool = value.boolValue else {
      throw BackendConfigError(field: field, value: value, wanted: "true or false")
    }
    return bool
  }

  private func member(_ field: String) -> JSONValue? {
    guard let value = raw[caseInsensitive: field], !value.isNull else { return nil }
    return value
  }
}

/// A member of the Backend object that is present but of the wrong JSON type.
public struct BackendConfigError: Error, Equatable, CustomStringConvertible {
  public let field: String
  public let description: String

  init(field: String, value: JSONValue, wanted: String) {
    self.field = field
    if case .double(let number) = value, number.rounded() == number, abs(number) < 1e15 {
      // 789E1 or 8285.0: a whole value, but Go's decoder refuses the literal for an int.
      description =
        "Backend.\(field) is written with a fraction or an exponent; write it as the whole number \(Int64(number))"
    } else {
      description =
        "Backend.\(field) is \(value.serialized()) (\(value.kindName)); write \(wanted)"
    }
  }
}
