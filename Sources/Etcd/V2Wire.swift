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

extension EtcdV2Response {
  /// A 2xx body of the keys API; `etcdIndex` is the `X-Etcd-Index` header (0 if absent).
  static func decode(_ body: [UInt8], etcdIndex: UInt64, what: String) throws -> EtcdV2Response {
    let r = try WireJSON.decode(V2ResponseWire.self, body, what: what)
    return EtcdV2Response(
      action: r.action ?? "", node: r.node?.model, prevNode: r.prevNode?.model,
      etcdIndex: etcdIndex)
  }
}

extension EtcdV2Error {
  /// An error body of the keys API; nil when it is not an etcd error document. `key` and
  /// `etcdIndex` stand in for a missing cause and index.
  static func decode(_ body: [UInt8], key: String, etcdIndex: UInt64) -> EtcdV2Error? {
    guard let e = try? JSONDecoder().decode(V2ErrorWire.self, from: Data(body)),
      let code = e.errorCode
    else { return nil }
    return EtcdV2Error(
      errorCode: code, message: e.message ?? "", cause: e.cause ?? key, index: e.index ?? etcdIndex)
  }
}

/// etcd writes expirations as RFC 3339 with up to nine fractional digits
/// ("2026-11-28T03:21:20.123456789Z", or with a "+01:00" offset). Parsed by hand: a
/// formatter per node made a 5,000-lease listing spend most of its time in ICU. Accepts what
/// Go's RFC 3339 parser accepts (plus lower-case "t" and "z", which RFC 3339 allows): a day
/// that exists in its month, seconds up to 59, at least one digit after ".", offsets up to
/// 23:59; anything else is nil rather than a shifted date.
enum V2Time {
  static func parse(_ text: String) -> Date? {
    let b = Array(text.utf8)
    func number(_ from: Int, _ count: Int) -> Int? {
      guard from + count <= b.count else { return nil }
      var value = 0
      for i in from..<(from + count) {
        guard b[i] >= 48 && b[i] <= 57 else { return nil }
        value = value * 10 + Int(b[i] - 48)
      }
      return value
    }
    guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58,
      b[16] == 58,
      let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
      let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
      (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24,
      minute < 60, second < 60
    else { return nil }
    var i = 19
    var fraction = 0.0
    if i + 1 < b.count && b[i] == 46 && b[i + 1] >= 48 && b[i + 1] <= 57 {
      i += 1
      var scale = 0.1
      while i < b.count && b[i] >= 48 && b[i] <= 57 {
        fraction += Double(b[i] - 48) * scale
        scale /= 10
        i += 1
      }
    }
    guard i < b.count else { return nil }
    var offset = 0
    if b[i] == 90 || b[i] == 122 {
      i += 1
    } else if b[i] == 43 || b[i] == 45, let oh = number(i + 1, 2), oh < 24, i + 3 < b.count,
      b[i + 3] == 58, let om = number(i + 4, 2), om < 60
    {
      offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
      i += 6
    } else {
      return nil
    }
    guard i == b.count else { return nil }
    let days = daysSinceEpoch(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    return Date(timeIntervalSince1970: Double(seconds) + fraction)
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Days from 1970-01-01 to a proleptic Gregorian date (era-based civil-day arithmetic).
  static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
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
