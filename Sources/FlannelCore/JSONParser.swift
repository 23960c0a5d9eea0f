/// A strict RFC 8259 parser (what Go's encoding/json accepts): one value, optional
/// whitespace around it. Integers without fraction or exponent that fit Int64 become `.int`,
/// every other number `.double`. Errors use Go's wording plus the position.
extension JSONValue {
  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    var parser = JSONParser(Array(text.utf8))
    return try parser.parseDocument()
  }
}

struct JSONParser {
  private let bytes: [UInt8]
  private var index = 0
  private var depth = 0
  /// Go's decoder stops at 10000 levels; we stop earlier to stay well inside the stack of
  /// a secondary thread, and no flannel document is nested more than three deep.
  static let maxDepth = 512

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  mutating func parseDocument() throws(JSONParseError) -> JSONValue {
    let value = try parseValue()
    skipWhitespace()
    if index < bytes.count { throw error("after top-level value") }
    return value
  }

  private mutating func parseValue() throws(JSONParseError) -> JSONValue {
    skipWhitespace()
    guard let byte = peek() else { throw endOfInput() }
    switch byte {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
    case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
    case UInt8(ascii: "n"): return try parseLiteral("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("looking for beginning of value")
    }
  }

  private mutating func enter() throws(JSONParseError) {
    depth += 1
    if depth > Self.maxDepth {
      throw JSONParseError("exceeded max depth of \(Self.maxDepth) \(position(index))")
    }
  }

  private mutating func parseObject() throws(JSONParseError) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    index += 1  // {
    var members: [JSONMember] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      index += 1
      return .object([])
    }
    while true {
      skipWhitespace()
      guard let byte = peek() else { throw endOfInput() }
      guard byte == UInt8(ascii: "\"") else {
        throw error("looking for beginning of object key string")
      }
      let key = try parseString()
      skipWhitespace()
      guard let colon = peek() else { throw endOfInput() }
      guard colon == UInt8(ascii: ":") else { throw error("after object key") }
      index += 1
      members.append(JSONMember(key, try parseValue()))
      skipWhitespace()
      guard let next = peek() else { throw endOfInput() }
      index += 1
      if next == UInt8(ascii: "}") { return .object(members) }
      guard next == UInt8(ascii: ",") else {
        index -= 1
        throw error("after object key:value pair")
      }
    }
  }

  private mutating func parseArray() throws(JSONParseError) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    index += 1  // [
    var elements: [JSONValue] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "]") {
      index += 1
      return .array([])
    }
    while true {
      elements.append(try parseValue())
      skipWhitespace()
      guard let next = peek() else { throw endOfInput() }
      index += 1
      if next == UInt8(ascii: "]") { return .array(elements) }
      guard next == UInt8(ascii: ",") else {
        index -= 1
        throw error("after array element")
      }
    }
  }

  private mutating func parseLiteral(
    _ word: StaticString, _ value: JSONValue
  ) throws(JSONParseError) -> JSONValue {
    let expected = word.withUTF8Buffer { Array($0) }
    for byte in expected {
      guard let actual = peek() else { throw endOfInput() }
      guard actual == byte else {
        throw error("in literal \(word) (expecting '\(Character(Unicode.Scalar(byte)))')")
      }
      index += 1
    }
    return value
  }

  private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
    let start = index
    var isInteger = true
    if peek() == UInt8(ascii: "-") { index += 1 }
    guard let first = peek() else { throw endOfInput() }
    if first == UInt8(ascii: "0") {
      index += 1
    } else if isDigit(first) {
      skipDigits()
    } else {
      throw error("in numeric literal")
    }
    if peek() == UInt8(ascii: ".") {
      isInteger = false
      index += 1
      try requireDigit()
      skipDigits()
    }
    if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
      isInteger = false
      index += 1
      if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
      try requireDigit()
      skipDigits()
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    // "-0" stays a double: as an integer it would be written back as "0" (Go keeps -0 too).
    if isInteger, let integer = Int64(text), integer != 0 || bytes[start] != UInt8(ascii: "-") {
      return .int(integer)
    }
    guard let double = Double(text), double.isFinite else {
      throw JSONParseError("number \(text) is out of range \(position(start))")
    }
    return .double(double)
  }

  private mutating func requireDigit() throws(JSONParseError) {
    guard let byte = peek() else { throw endOfInput() }
    guard isDigit(byte) else { throw error("in numeric literal") }
  }

  private mutating func skipDigits() {
    while let byte = peek(), isDigit(byte) { index += 1 }
  }

  private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// Parses a string starting at its opening quote. Bytes are valid UTF-8 (they came from a
  /// Swift String), so only escapes and control characters need checking. A lone UTF-16
  /// surrogate in a \u escape becomes U+FFFD, as in Go.
  private mutating func parseString() throws(JSONParseError) -> String {
    index += 1  // "
    var result: [UInt8] = []
    while true {
      guard let byte = peek() else { throw endOfInput() }
      switch byte {
      case UInt8(ascii: "\""):
        index += 1
        return String(decoding: result, as: UTF8.self)
      case UInt8(ascii: "\\"):
        index += 1
        try appendEscape(to: &result)
      case 0..<0x20:
        throw error("in string literal")
      default:
        result.append(byte)
        index += 1
      }
    }
  }

  private mutating func appendEscape(to result: inout [UInt8]) throws(JSONParseError) {
    guard let byte = peek() else { throw endOfInput() }
    let simple: UInt8? =
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
      case UInt8(ascii: "b"): 0x08
      case UInt8(ascii: "f"): 0x0c
      case UInt8(ascii: "n"): 0x0a
      case UInt8(ascii: "r"): 0x0d
      case UInt8(ascii: "t"): 0x09
      default: nil
      }
    if let replacement = simple {
      result.append(replacement)
      index += 1
      return
    }
    guard byte == UInt8(ascii: "u") else { throw error("in string escape code") }
    index += 1
    var scalar = try parseHex4()
    if (0xD800..<0xDC00).contains(scalar), peek() == UInt8(ascii: "\\"),
      index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
    {
      let save = index
      index += 2
      let low = try parseHex4()
      if (0xDC00..<0xE000).contains(low) {
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else {
        index = save  // not a pair: the second escape is parsed on its own
      }
    }
    let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
    result.append(contentsOf: Array(String(character).utf8))
  }

  private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = peek() else { throw endOfInput() }
      guard let digit = hexValue(byte) else {
        throw error("in \\u hexadecimal character escape")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  private func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  private func peek() -> UInt8? {
    index < bytes.count ? bytes[index] : nil
  }

  private mutating func skipWhitespace() {
    while let byte = peek(),
      byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    {
      index += 1
    }
  }

  /// "invalid character 'x' <context> at line L, column C (byte offset O)" for the byte at
  /// the current index; a multi-byte character is shown whole.
  private func error(_ context: String) -> JSONParseError {
    JSONParseError("invalid character \(quotedCharacter(at: index)) \(context) \(position(index))")
  }

  private func endOfInput() -> JSONParseError {
    JSONParseError("unexpected end of JSON input \(position(bytes.count))")
  }

  private func quotedCharacter(at offset: Int) -> String {
    var end = offset + 1
    while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
    let text = String(decoding: bytes[offset..<min(end, bytes.count)], as: UTF8.self)
    switch text {
    case "'": return "'\\''"
    case "\n": return "'\\n'"
    case "\r": return "'\\r'"
    case "\t": return "'\\t'"
    default:
      if let scalar = text.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7f {
        let hex = String(scalar.value, radix: 16)
        return "'\\x" + (hex.count == 1 ? "0" + hex : hex) + "'"
      }
      return "'\(text)'"
    }
  }

  /// Lines and columns count from 1; the column counts bytes, the offset counts bytes from 0.
  private func position(_ offset: Int) -> String {
    var line = 1
    var lineStart = 0
    for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0a {
      line += 1
      lineStart = i + 1
    }
    return "at line \(line), column \(offset - lineStart + 1) (byte offset \(offset))"
  }
}
