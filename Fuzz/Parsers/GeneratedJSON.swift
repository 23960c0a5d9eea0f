@testable import FlannelCore

/// JSON values and strings built from fuzz bytes: every kind, integers over the whole Int64
/// range, doubles from raw bit patterns (subnormals, huge and tiny exponents), strings with
/// control characters, quotes, U+2028 and astral scalars.
enum GeneratedJSON {
  static func value(_ input: inout FuzzInput, depth: Int = 0) -> JSONValue {
    switch input.byte() % (depth >= 4 ? 5 : 7) {
    case 0: return .null
    case 1: return .bool(input.bool())
    case 2: return .int(Int64(bitPattern: input.u64()))
    case 3: return .double(double(&input))
    case 4: return .string(string(&input))
    case 5:
      return .array((0..<Int(input.byte() % 4)).map { _ in value(&input, depth: depth + 1) })
    default:
      return .object(
        (0..<Int(input.byte() % 4)).map { _ in
          JSONMember(string(&input), value(&input, depth: depth + 1))
        })
    }
  }

  /// A finite double: the raw bits when they are finite, else a small decimal fraction.
  static func double(_ input: inout FuzzInput) -> Double {
    let bits = Double(bitPattern: input.u64())
    return bits.isFinite ? bits : Double(Int32(bitPattern: input.u32())) / 1000
  }

  static func string(_ input: inout FuzzInput, maxCount: Int = 12) -> String {
    var out = String.UnicodeScalarView()
    for _ in 0..<Int(input.byte()) % (maxCount + 1) {
      let pick = input.byte()
      let scalar: Unicode.Scalar? =
        switch pick % 8 {
        case 0: Unicode.Scalar(pick / 8)  // control characters and a few printable
        case 1: ["\"", "\\", "/", "\u{2028}", "\u{2029}", "\u{7F}", "\u{FFFD}"][Int(pick / 8) % 7]
        case 2: Unicode.Scalar(UInt32(input.u16()))  // BMP (surrogates give nil)
        case 3: Unicode.Scalar(input.u32() % 0x11_0000)
        default: Unicode.Scalar(0x20 + pick % 0x5f)  // printable ASCII
        }
      out.append(scalar ?? "?")
    }
    return String(out)
  }
}

/// Equality of JSON values up to how numbers are spelled: Go (and our serializer) writes the
/// double 1.0 as `1` and 7.076842973344846e16 as `70768429733448460`, which read back as
/// integers; an integer and a double are the same number when the integer's decimal text
/// reads as that double (what Go's decoder, reading every number as float64, would see).
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
  switch (a, b) {
  case (.int(let i), .double(let d)), (.double(let d), .int(let i)):
    return Double(String(i)) == d
  case (.array(let x), .array(let y)):
    return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
  case (.object(let x), .object(let y)):
    return x.count == y.count
      && zip(x, y).allSatisfy { $0.key == $1.key && sameJSON($0.value, $1.value) }
  default:
    return a == b
  }
}

func sameJSON(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
  switch (a, b) {
  case (nil, nil): true
  case (let x?, let y?): sameJSON(x, y)
  default: false
  }
}
