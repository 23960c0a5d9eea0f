import Foundation

/// An int64 that the v3 gateway writes as a JSON string ("revision":"11"); numbers are
/// accepted too.
struct WireInt64: Decodable, Sendable {
  let value: Int64

  init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let s = try? c.decode(String.self), let v = Int64(s) {
      value = v
    } else {
      value = try c.decode(Int64.self)
    }
  }
}

extension Optional where Wrapped == WireInt64 {
  /// The gateway omits zero values.
  var orZero: Int64 { self?.value ?? 0 }
}

enum WireJSON {
  static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
    let decoder = JSONDecoder()
    do {
      return try decoder.decode(type, from: Data(bytes))
    } catch {
      let text = String(decoding: bytes.prefix(300), as: UTF8.self)
      throw EtcdError.malformed("\(what): \(error) in \(text)")
    }
  }

  static func encode(_ object: [String: Any]) -> String {
    let data =
      (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}

extension String {
  var base64: String { Data(utf8).base64EncodedString() }

  /// Decodes gateway base64; bytes that are not UTF-8 are replaced rather than dropped.
  init(base64Wire text: String?) {
    self =
      text.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
  }
}
