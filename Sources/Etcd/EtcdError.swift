/// Everything the etcd clients throw.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No endpoint answered; `lastError` says what was attempted where and how it failed.
  case unavailable(endpoints: [String], lastError: String)
  /// A non-success HTTP status whose body is not an etcd error document.
  case http(endpoint: String, status: Int, body: String)
  /// An error document from the v2 keys API.
  case v2(EtcdV2Error)
  /// A gateway error document `{"error":..,"code":..,"message":..}` (code = gRPC status code).
  case v3(code: Int, message: String)
  /// The v3 watch start revision was compacted away; re-list and resume from a new revision.
  case compacted(compactRevision: Int64)
  /// A response that does not parse; the text says what was being done where.
  case malformed(String)
  case cancelled

  public var description: String {
    switch self {
    case .unavailable(let endpoints, let lastError):
      return "etcd unavailable (tried \(endpoints.joined(separator: ", "))): \(lastError)"
    case .http(let endpoint, let status, let body):
      return "etcd at \(endpoint) answered HTTP \(status): \(body.prefix(500))"
    case .v2(let error):
      return error.description
    case .v3(let code, let message):
      return "etcd v3 error (code \(code)): \(message)"
    case .compacted(let revision):
      return "etcd v3 watch: required revision has been compacted (compact revision \(revision))"
    case .malformed(let text):
      return "malformed etcd response: \(text)"
    case .cancelled:
      return "etcd request cancelled"
    }
  }
}

/// The v2 keys API error document, e.g. `{"errorCode":100,"message":"Key not found",...}`.
public struct EtcdV2Error: Error, Sendable, Equatable, CustomStringConvertible {
  public let errorCode: Int
  public let message: String
  public let cause: String
  /// The etcd index when the error happened (the cursor to resume a v2 watch from).
  public let index: UInt64

  public static let keyNotFound = 100
  public static let nodeExists = 105
  public static let eventIndexCleared = 401

  public init(errorCode: Int, message: String, cause: String, index: UInt64) {
    self.errorCode = errorCode
    self.message = message
    self.cause = cause
    self.index = index
  }

  public var description: String {
    "etcd v2 error \(errorCode) (\(message)) on \(cause) at index \(index)"
  }
}
