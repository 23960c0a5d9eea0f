// The v3 JSON gateway's documents (grpc-gateway: snake_case, int64 as strings, zero values
// omitted, bytes as base64). Snake-case names are spelled out in CodingKeys: the decoder's
// convertFromSnakeCase rewrote every key of every document (a 20,000-lease listing has
// 120,000), which cost more than the rest of the decoding.

struct V3Header: Decodable { let revision: WireInt64? }

struct V3KeyValue: Decodable {
  let key: String?
  let value: String?
  let createRevision: WireInt64?
  let modRevision: WireInt64?
  let version: WireInt64?
  let lease: WireInt64?

  enum CodingKeys: String, CodingKey {
    case key, value, version, lease
    case createRevision = "create_revision"
    case modRevision = "mod_revision"
  }

  var model: EtcdKeyValue {
    EtcdKeyValue(
      key: String(base64Wire: key), value: String(base64Wire: value),
      createRevision: createRevision.orZero, modRevision: modRevision.orZero,
      version: version.orZero, lease: lease.orZero)
  }
}

struct V3RangeResponse: Decodable {
  let header: V3Header?
  let kvs: [V3KeyValue]?
  let more: Bool?
}

struct V3PutResponse: Decodable { let header: V3Header? }

struct V3DeleteResponse: Decodable {
  let header: V3Header?
  let deleted: WireInt64?
}

struct V3TxnResponse: Decodable {
  let header: V3Header?
  let succeeded: Bool?
}

struct V3LeaseGrantResponse: Decodable {
  let ID: WireInt64?
  let TTL: WireInt64?
  let error: String?
}

struct V3LeaseTimeToLiveResponse: Decodable { let TTL: WireInt64? }

struct V3Empty: Decodable {}

struct V3AuthenticateResponse: Decodable { let token: String? }

/// `{"error":"...","code":5,"message":"..."}` as answered with a non-200 status.
struct V3GatewayError: Decodable {
  let error: String?
  let code: Int?
  let message: String?
}

/// One line of the watch stream.
struct V3WatchLine: Decodable {
  struct Result: Decodable {
    let header: V3Header?
    let created: Bool?
    let canceled: Bool?
    let compactRevision: WireInt64?
    let cancelReason: String?
    let events: [Event]?

    enum CodingKeys: String, CodingKey {
      case header, created, canceled, events
      case compactRevision = "compact_revision"
      case cancelReason = "cancel_reason"
    }
  }
  struct Event: Decodable {
    let type: String?
    let kv: V3KeyValue?
  }
  /// grpc-gateway's in-stream error.
  struct StreamError: Decodable {
    let grpcCode: Int?
    let httpCode: Int?
    let message: String?

    enum CodingKeys: String, CodingKey {
      case message
      case grpcCode = "grpc_code"
      case httpCode = "http_code"
    }
  }
  let result: Result?
  let error: StreamError?
}
