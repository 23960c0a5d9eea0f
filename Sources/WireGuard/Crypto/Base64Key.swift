/// Base64 (RFC 4648, with padding) for 32-byte keys: the text form of `wg genkey`, flannel's
/// lease `PublicKey` and its `PSK` option.
enum Base64Key {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let remaining = bytes.count - index
      let b0 = UInt32(bytes[index])
      let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
      let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
      let triple = b0 << 16 | b1 << 8 | b2
      out.append(alphabet[Int(triple >> 18 & 63)])
      out.append(alphabet[Int(triple >> 12 & 63)])
      out.append(remaining > 1 ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
      out.append(remaining > 2 ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
      index += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes padded base64, ignoring surrounding white space (a key file ends in a newline).
  static func decode(_ text: String) throws(KeyError) -> [UInt8] {
    let trimmed = text.utf8.drop { isSpace($0) }.reversed().drop { isSpace($0) }.reversed()
    guard trimmed.count % 4 == 0 else { throw .notBase64 }
    var out: [UInt8] = []
    out.reserveCapacity(trimmed.count / 4 * 3)
    var quad: UInt32 = 0
    var filled = 0
    var padding = 0
    for character in trimmed {
      let value: UInt32
      if character == UInt8(ascii: "=") {
        padding += 1
        value = 0
      } else {
        guard padding == 0, let found = sextet(character) else { throw .notBase64 }
        value = found
      }
      quad = quad << 6 | value
      filled += 1
      if filled == 4 {
        out.append(UInt8(quad >> 16 & 0xff))
        out.append(UInt8(quad >> 8 & 0xff))
        out.append(UInt8(quad & 0xff))
        quad = 0
        filled = 0
      }
    }
    guard padding <= 2 else { throw .notBase64 }
    out.removeLast(padding)
    return out
  }

  private static func isSpace(_ character: UInt8) -> Bool {
    character == UInt8(ascii: " ") || character == UInt8(ascii: "\n")
      || character == UInt8(ascii: "\r") || character == UInt8(ascii: "\t")
  }

  private static func sextet(_ character: UInt8) -> UInt32? {
    switch character {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(character - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(character - UInt8(ascii: "a")) + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(character - UInt8(ascii: "0")) + 52
    case UInt8(ascii: "+"): 62
    case UInt8(ascii: "/"): 63
    default: nil
    }
  }
}
