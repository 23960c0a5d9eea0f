import Foundation

// The v2 keys API's documents (camelCase, plain JSON numbers, RFC 3339 expiration).

struct V2NodeWire: Decodable {
  let key: String?
  let value: String?
  let dir: Bool?
  let nodes: [V2NodeWire]?
  let createdIndex: UInt64?
  let modifiedIndex: UInt64?
  let expiration: String?
  let ttl: Int64?

  var model: EtcdV2Node {
    EtcdV2Node(
      key: key ?? "/", value: value, dir: dir ?? false, nodes: (nodes ?? []).map(\.model),
      createdIndex: createdIndex ?? 0, modifiedIndex: modifiedIndex ?? 0,
      expiration: expiration.flatMap(V2Time.parse), ttl: ttl)
  }
}

struct V2ResponseWire: Decodable {
  let action: String?
  let node: V2NodeWire?
  let prevNode: V2NodeWire?
}

struct V2ErrorWire: Decodable {
  let errorCode: Int?
  let message: String?
  let cause: String?
  let index: UInt64?
}

/// etcd writes expirations as RFC 3339 with up to nine fractional digits, which
/// ISO8601DateFormatter does not read: the fraction is parsed separately.
enum V2Time {
  static func parse(_ text: String) -> Date? {
    var whole = text
    var fraction = 0.0
    if let dot = text.firstIndex(of: ".") {
      let rest = text[text.index(after: dot)...]
      let digits = rest.prefix { $0.isNumber }
      fraction = Double("0." + digits) ?? 0
      whole = String(text[..<dot]) + String(rest.dropFirst(digits.count))
    }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: whole).map { $0.addingTimeInterval(fraction) }
  }
}

enum V2Form {
  private static let unreserved = CharacterSet(
    charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

  /// application/x-www-form-urlencoded (and query) value encoding.
  static func encode(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
  }

  /// A key as a URL path: every segment percent-encoded, slashes kept.
  static func path(_ key: String) -> String {
    let k = key.hasPrefix("/") ? key : "/" + key
    return k.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }
      .joined(separator: "/")
  }

  static func pairs(_ items: [(String, String)]) -> String {
    items.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
  }
}
