/// A WireGuard key (private, public or preshared: 32 bytes) and its text form, the standard
/// base64 with padding that `wg genkey` / `wg pubkey` print and stock flannel writes into
/// leases and its key file.
///
/// `description` hides the key (it may be the private key or the PSK, and a config or lease
/// printed whole would show it): `base64` is the one way to its text.
public struct WireGuardKey: Sendable, Hashable, CustomStringConvertible {
  public static let byteCount = 32
  /// 32 bytes.
  public let bytes: [UInt8]

  /// nil unless `bytes` has exactly 32 bytes.
  public init?(bytes: [UInt8]) {
    guard bytes.count == Self.byteCount else { return nil }
    self.bytes = bytes
  }

  /// Reads base64 text as Go's `base64.StdEncoding` does, which stock flannel (through
  /// wgtypes.ParseKey) uses: carriage returns and line feeds anywhere are skipped (so a key
  /// file's trailing newline is fine), the `=` padding is required, bits below the last
  /// whole byte are ignored. Anything else (spaces, URL-safe letters, 31 or 33 bytes) is nil.
  public init?(base64 text: String) {
    var sextets: [UInt8] = []
    sextets.reserveCapacity(44)
    var padding = 0
    for byte in text.utf8 where byte != 0x0d && byte != 0x0a {
      if byte == UInt8(ascii: "=") {
        padding += 1
        continue
      }
      guard padding == 0, let value = Self.sextet(byte) else { return nil }
      sextets.append(value)
    }
    // 32 bytes are 43 characters of 6 bits (256 of 258 bits used) and one "=".
    guard sextets.count == 43, padding == 1 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(Self.byteCount)
    var accumulator: UInt32 = 0
    var bits = 0
    for value in sextets {
      accumulator = accumulator << 6 | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
      }
    }
    self.bytes = out
  }

  /// Standard base64 with padding: 44 characters.
  public var base64: String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(44)
    var i = 0
    while i < bytes.count {
      let b0 = UInt32(bytes[i])
      let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
      let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
      let group = b0 << 16 | b1 << 8 | b2
      out.append(alphabet[Int(group >> 18 & 63)])
      out.append(alphabet[Int(group >> 12 & 63)])
      out.append(i + 1 < bytes.count ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
      out.append(i + 2 < bytes.count ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
      i += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  public var description: String { "WireGuardKey(\(Self.byteCount) bytes)" }

  /// Reads the content of the private key file (/run/flannel/wgkey or WIREGUARD_KEY_FILE),
  /// as `wg genkey` writes it (with a newline) or stock flannel does (without).
  public static func parsePrivateKeyFile(_ content: String) throws(WireGuardConfigError)
    -> WireGuardKey
  {
    guard let key = WireGuardKey(base64: content) else {
      throw WireGuardConfigError(
        field: "private key file",
        "could not parse private key from file: expected the base64 text of a 32-byte key, "
          + "as `wg genkey` writes (44 characters ending in \"=\"); delete the file to have "
          + "a new key generated")
    }
    return key
  }

  private static func sextet(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
    case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
    case UInt8(ascii: "+"): 62
    case UInt8(ascii: "/"): 63
    default: nil
    }
  }
}

/// A refused wireguard setting, key or lease field: which one, and the whole message (what
/// was wrong and what to write instead).
public struct WireGuardConfigError: Error, Equatable, CustomStringConvertible {
  public let field: String
  public let description: String

  public init(field: String, _ description: String) {
    self.field = field
    self.description = description
  }
}
