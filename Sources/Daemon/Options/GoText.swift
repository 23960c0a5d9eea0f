/// Go `strconv` behaviour the flag parser must copy: which texts parse and the error words.
enum GoText {
  /// Go's `%q` (strconv.Quote) for the texts that appear in flag errors: printable
  /// characters as they are, `"` and `\` escaped, control characters as Go escapes them.
  static func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\u{07}": out += "\\a"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{0B}": out += "\\v"
      case "\u{00}"..."\u{1F}", "\u{7F}":
        out += "\\x" + hex(scalar.value, width: 2)
      case "\u{80}"..."\u{9F}":
        out += "\\u" + hex(scalar.value, width: 4)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  private static func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  /// Go `strconv.ParseBool`: exactly these twelve spellings.
  static func parseBool(_ text: String) -> Bool? {
    switch text {
    case "1", "t", "T", "TRUE", "true", "True": true
    case "0", "f", "F", "FALSE", "false", "False": false
    default: nil
    }
  }

  /// Why a number was refused, in the words Go's flag package uses for `IntVar`.
  enum NumberError: Error, Equatable {
    case syntax, range
    var flagReason: String { self == .syntax ? "parse error" : "value out of range" }
  }

  /// Go `strconv.ParseInt(text, 0, 64)` as `flag.IntVar` calls it: optional sign, base from
  /// the prefix (0b, 0o, 0x, or a leading 0 for octal), underscores between digits.
  static func parseGoInt(_ text: String) -> Result<Int, NumberError> {
    var digits = Substring(text)
    var negative = false
    if let sign = digits.first, sign == "+" || sign == "-" {
      negative = sign == "-"
      digits = digits.dropFirst()
    }
    if digits.isEmpty { return .failure(.syntax) }
    var base: UInt64 = 10
    if digits.first == "0" {
      let second = digits.dropFirst().first.map { Character($0.lowercased()) }
      if digits.count >= 3, second == "b" || second == "o" || second == "x" {
        base = second == "b" ? 2 : second == "o" ? 8 : 16
        digits = digits.dropFirst(2)
      } else {
        base = 8
        digits = digits.dropFirst()
      }
    }
    var magnitude: UInt64 = 0
    var sawUnderscore = false
    for byte in digits.utf8 {
      if byte == UInt8(ascii: "_") {
        sawUnderscore = true
        continue
      }
      guard let digit = digitValue(byte), UInt64(digit) < base else { return .failure(.syntax) }
      let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: base)
      let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
      if overflow1 || overflow2 { return .failure(.range) }
      magnitude = sum
    }
    if sawUnderscore && !underscoresWellPlaced(text) { return .failure(.syntax) }
    return signed(magnitude, negative: negative)
  }

  /// Go `strconv.Atoi`, as klog's `-v` uses it: base 10, optional sign, no underscores.
  /// Returns the Go error text on failure.
  static func parseDecimal(_ text: String) -> Result<Int, NumberError> {
    var digits = Substring(text)
    var negative = false
    if let sign = digits.first, sign == "+" || sign == "-" {
      negative = sign == "-"
      digits = digits.dropFirst()
    }
    if digits.isEmpty { return .failure(.syntax) }
    var magnitude: UInt64 = 0
    for byte in digits.utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
        return .failure(.syntax)
      }
      let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
      if overflow1 || overflow2 { return .failure(.range) }
      magnitude = sum
    }
    return signed(magnitude, negative: negative)
  }

  /// The message Go's `strconv.Atoi` error prints (klog returns it unchanged).
  static func atoiMessage(_ text: String, _ error: NumberError) -> String {
    let what = error == .syntax ? "invalid syntax" : "value out of range"
    return "strconv.Atoi: parsing \(quote(text)): \(what)"
  }

  private static func signed(_ magnitude: UInt64, negative: Bool) -> Result<Int, NumberError> {
    let limit = UInt64(Int.max)
    if negative {
      if magnitude > limit + 1 { return .failure(.range) }
      return .success(magnitude == limit + 1 ? Int.min : -Int(magnitude))
    }
    return magnitude > limit ? .failure(.range) : .success(Int(magnitude))
  }

  private static func digitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// Go's rule: an underscore must sit between digits, or between a base prefix and a digit.
  private static func underscoresWellPlaced(_ text: String) -> Bool {
    var bytes = Array(text.utf8)[...]
    if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
      bytes = bytes.dropFirst()
    }
    enum Saw { case start, digit, underscore, other }
    var saw = Saw.start
    var hex = false
    if bytes.count >= 2, bytes.first == UInt8(ascii: "0") {
      let second = bytes[bytes.startIndex + 1] | 0x20
      if second == UInt8(ascii: "b") || second == UInt8(ascii: "o") || second == UInt8(ascii: "x") {
        hex = second == UInt8(ascii: "x")
        saw = .digit
        bytes = bytes.dropFirst(2)
      }
    }
    for byte in bytes {
      let lower = byte | 0x20
      let isDigit =
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || (hex && lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "f"))
      if isDigit {
        saw = .digit
      } else if byte == UInt8(ascii: "_") {
        if saw != .digit { return false }
        saw = .underscore
      } else {
        if saw == .underscore { return false }
        saw = .other
      }
    }
    return saw != .underscore
  }
}
