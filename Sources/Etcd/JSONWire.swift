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

  /// Compact JSON with sorted keys for the gateway's request bodies (strings, booleans,
  /// integers, nested objects and arrays of them). Written here rather than through
  /// JSONSerialization, whose Foundation and CoreFoundation code a node would otherwise page
  /// in only for this.
  static func encode(_ object: [String: Any]) -> String {
    var out = ""
    append(object, to: &out)
    return out
  }

  private static func append(_ value: Any, to out: inout String) {
    switch value {
    case let text as String:
      appendString(text, to: &out)
    case let flag as Bool:
      out += flag ? "true" : "false"
    case let number as Int:
      out += String(number)
    case let number as Int64:
      out += String(number)
    case let object as [String: Any]:
      out += "{"
      for (index, key) in object.keys.sorted().enumerated() {
        if index > 0 { out += "," }
        appendString(key, to: &out)
        out += ":"
        append(object[key]!, to: &out)
      }
      out += "}"
    case let array as [Any]:
      out += "["
      for (index, element) in array.enumerated() {
        if index > 0 { out += "," }
        append(element, to: &out)
      }
      out += "]"
    default:
      out += "null"
    }
  }

  private static func appendString(_ text: String, to out: inout String) {
    out += "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default:
        out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
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
