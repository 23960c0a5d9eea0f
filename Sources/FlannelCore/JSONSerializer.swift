/// Compact serialization in the shape of Go's json.Marshal, so what we write into etcd is
/// byte-identical to what stock flannel writes: no whitespace, members in order, integers
/// as integers, floats in Go's shortest form. Unlike Go we do not escape <, > and & (flannel
/// never writes them and nothing reads JSON as HTML here).
extension JSONValue {
  public func serialized() -> String {
    var out = ""
    write(to: &out)
    return out
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += Self.goFloat(d)
    case .string(let s): Self.writeString(s, to: &out)
    case .array(let elements):
      out += "["
      for (i, element) in elements.enumerated() {
        if i > 0 { out += "," }
        element.write(to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, member) in members.enumerated() {
        if i > 0 { out += "," }
        Self.writeString(member.key, to: &out)
        out += ":"
        member.value.write(to: &out)
      }
      out += "}"
    }
  }

  /// Go escapes ", \, control characters (\n \r \t \b \f short, others \u00XX) and
  /// U+2028/U+2029 (JavaScript line terminators).
  static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }

  /// Go's float64 encoding: shortest round-trip digits; plain decimal notation when
  /// 1e-6 <= |x| < 1e21, otherwise exponent form with at least one exponent digit
  /// ("1e-7", "1e+21"). NaN and infinities cannot be represented in JSON: written as null.
  static func goFloat(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    if d == 0 { return d.sign == .minus ? "-0" : "0" }
    let (negative, digits, exponent) = shortestDigits(d)
    let sign = negative ? "-" : ""
    let magnitude = abs(d)
    // `exponent` is the position of the decimal point relative to the digit string:
    // value = 0.d1d2d3… × 10^exponent.
    if magnitude >= 1e-6 && magnitude < 1e21 {
      if exponent <= 0 {
        return sign + "0." + String(repeating: "0", count: -exponent) + digits
      }
      if exponent >= digits.count {
        return sign + digits + String(repeating: "0", count: exponent - digits.count)
      }
      let split = digits.index(digits.startIndex, offsetBy: exponent)
      return sign + digits[..<split] + "." + digits[split...]
    }
    let mantissa =
      digits.count == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst())
    let e = exponent - 1
    return sign + mantissa + "e" + (e < 0 ? "-" : "+") + String(abs(e))
  }

  /// Splits Swift's shortest round-trip description ("1.5e-07", "123.25", "1e+21") into sign,
  /// significant digits without leading/trailing zeros, and decimal-point position.
  private static func shortestDigits(_ d: Double) -> (Bool, String, Int) {
    var text = abs(d).description
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exponent = Int(text[text.index(after: e)...])!
      text = String(text[..<e])
    }
    var integerPart = text
    var fraction = ""
    if let dot = text.firstIndex(of: ".") {
      integerPart = String(text[..<dot])
      fraction = String(text[text.index(after: dot)...])
    }
    var digits = integerPart + fraction
    var point = integerPart.count + exponent
    while digits.first == "0" {
      digits.removeFirst()
      point -= 1
    }
    while digits.last == "0" { digits.removeLast() }
    return (d.sign == .minus, digits, point)
  }
}
