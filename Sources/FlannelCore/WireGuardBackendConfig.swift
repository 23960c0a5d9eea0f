/// The wireguard members of the config's Backend object (flannel-behaviour §6b), with stock's
/// defaults: ListenPort 51820, ListenPortV6 51821, no PSK, no persistent keepalive, Mode
/// "separate", MTU from the external interface. Field names match case-insensitively and
/// null counts as absent, as Go's decoder reads them; a value of the wrong JSON type is
/// refused (`BackendConfig.int` / `string`) where stock fails with "error decoding backend
/// config", and a bad value names the field and what to write.
public struct WireGuardBackendConfig: Sendable, Equatable {
  /// How the device(s) carry the two address families. With an IPv4-only network every mode
  /// gives one device `flannel-wg`; they differ only for dual-stack networks.
  public enum Mode: String, Sendable, CaseIterable {
    /// One device per family: `flannel-wg` and `flannel-wg-v6`.
    case separate
    /// One device for both families, peers reached over the family most likely to connect.
    case auto
    /// One device for both families, peers reached over IPv4.
    case ipv4
    /// One device for both families, peers reached over IPv6.
    case ipv6
  }

  public static let defaultListenPort: UInt16 = 51820
  public static let defaultListenPortV6: UInt16 = 51821
  /// Bytes a WireGuard datagram adds around an inner packet, as stock reserves them (outer
  /// IPv6 header 40, UDP 8, transport header 16, tag 16): the device MTU is the external
  /// MTU minus this.
  public static let overhead = 80

  public var listenPort: UInt16
  public var listenPortV6: UInt16
  /// Applied to every peer; nil: none.
  public var psk: WireGuardKey?
  /// Seconds; 0: no persistent keepalive.
  public var persistentKeepaliveInterval: Int
  public var mode: Mode
  /// Backend.MTU (HEAD): the MTU to take 80 from; nil: the external interface's.
  public var mtu: Int?

  public init(
    listenPort: UInt16 = defaultListenPort, listenPortV6: UInt16 = defaultListenPortV6,
    psk: WireGuardKey? = nil, persistentKeepaliveInterval: Int = 0, mode: Mode = .separate,
    mtu: Int? = nil
  ) {
    self.listenPort = listenPort
    self.listenPortV6 = listenPortV6
    self.psk = psk
    self.persistentKeepaliveInterval = persistentKeepaliveInterval
    self.mode = mode
    self.mtu = mtu
  }

  /// Reads the Backend object of a network config whose Backend.Type is "wireguard".
  public init(_ config: BackendConfig) throws(WireGuardConfigError) {
    self.init()
    listenPort = try Self.port(config, "ListenPort") ?? Self.defaultListenPort
    listenPortV6 = try Self.port(config, "ListenPortV6") ?? Self.defaultListenPortV6
    if let text = try Self.string(config, "PSK"), !text.isEmpty {
      guard let key = WireGuardKey(base64: text) else {
        throw WireGuardConfigError(
          field: "PSK",
          "could not parse psk: Backend.PSK must be the base64 text of a 32-byte key, as "
            + "`wg genpsk` prints (44 characters ending in \"=\"); leave it out for no PSK")
      }
      psk = key
    }
    if let interval = try Self.integer(config, "PersistentKeepaliveInterval") {
      guard (0...65535).contains(interval) else {
        throw WireGuardConfigError(
          field: "PersistentKeepaliveInterval",
          "Backend.PersistentKeepaliveInterval \(interval) out of range: use seconds from 1 "
            + "to 65535, or 0 for none")
      }
      persistentKeepaliveInterval = interval
    }
    if let text = try Self.string(config, "Mode") {
      guard let mode = Mode(rawValue: text) else {
        let modes = Mode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        throw WireGuardConfigError(
          field: "Mode",
          "no valid Mode configured: Backend.Mode \(JSONValue.string(text).serialized()) is "
            + "not one of \(modes) (lower case; leave it out for \"separate\")")
      }
      self.mode = mode
    }
    if let mtu = try Self.integer(config, "MTU") {
      guard mtu > Self.overhead, mtu <= 65535 else {
        throw WireGuardConfigError(
          field: "MTU",
          "Backend.MTU \(mtu) out of range: the device gets MTU − \(Self.overhead), so use "
            + "\(Self.overhead + 1)–65535, or leave it out for the external interface's MTU")
      }
      self.mtu = mtu
    }
  }

  /// The device MTU for an external interface MTU: Backend.MTU, if set, or the interface's,
  /// less the overhead.
  public func deviceMTU(externalMTU: Int) -> Int {
    (mtu ?? externalMTU) - Self.overhead
  }

  /// An integer member, nil when absent or null; a member of another JSON type is refused
  /// with BackendConfig's message.
  private static func integer(_ config: BackendConfig, _ field: String)
    throws(WireGuardConfigError) -> Int?
  {
    do throws(BackendConfigError) {
      return try config.int(field)
    } catch {
      throw WireGuardConfigError(field: error.field, error.description)
    }
  }

  private static func port(_ config: BackendConfig, _ field: String)
    throws(WireGuardConfigError) -> UInt16?
  {
    guard let number = try integer(config, field) else { return nil }
    guard (1...65535).contains(number) else {
      throw WireGuardConfigError(
        field: field,
        "Backend.\(field) \(number) out of range: use a UDP port from 1 to 65535 (peers "
          + "learn it from the lease)")
    }
    return UInt16(number)
  }

  private static func string(_ config: BackendConfig, _ field: String)
    throws(WireGuardConfigError) -> String?
  {
    do throws(BackendConfigError) {
      return try config.string(field)
    } catch {
      throw WireGuardConfigError(field: error.field, error.description)
    }
  }
}
