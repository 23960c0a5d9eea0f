import FlannelCore

/// The vxlan members of the config's Backend object (flannel-behaviour §5.1), with stock's
/// defaults: VNI 1, Port 0 (the kernel's 8472), GBP/Learning/DirectRouting off, MTU from the
/// external interface.
public struct VXLANOptions: Sendable, Equatable {
  public var vni: UInt32
  public var port: UInt16
  public var gbp: Bool
  public var learning: Bool
  public var directRouting: Bool
  /// Backend.MTU (HEAD); nil: the external interface's MTU. The device gets this − 50.
  public var mtu: Int?

  public init(
    vni: UInt32 = 1, port: UInt16 = 0, gbp: Bool = false, learning: Bool = false,
    directRouting: Bool = false, mtu: Int? = nil
  ) {
    self.vni = vni
    self.port = port
    self.gbp = gbp
    self.learning = learning
    self.directRouting = directRouting
    self.mtu = mtu
  }

  /// Reads the Backend object; `portOverride` (the `-port` flag) wins when > 0.
  public init(_ config: BackendConfig, portOverride: Int = 0) throws(VXLANConfigError) {
    let vni = config.int("VNI") ?? 1
    guard (0...0xff_ffff).contains(vni) else { throw VXLANConfigError("VNI \(vni) out of range") }
    let port = portOverride > 0 ? portOverride : config.int("Port") ?? 0
    guard (0...65535).contains(port) else { throw VXLANConfigError("Port \(port) out of range") }
    if let mtu = config.int("MTU"), mtu <= 50 {
      throw VXLANConfigError("MTU \(mtu) leaves no room for the 50-byte vxlan header")
    }
    self.init(
      vni: UInt32(vni), port: UInt16(port), gbp: config.bool("GBP") ?? false,
      learning: config.bool("Learning") ?? false,
      directRouting: config.bool("DirectRouting") ?? false, mtu: config.int("MTU"))
  }

  public var deviceName: String { "flannel.\(vni)" }
}

public struct VXLANConfigError: Error, Equatable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
