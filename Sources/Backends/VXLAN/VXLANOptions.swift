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
    let (vni, configPort, mtu, gbp, learning, directRouting):
      (Int?, Int?, Int?, Bool?, Bool?, Bool?)
    do throws(BackendConfigError) {
      (vni, configPort, mtu) = (
        try config.int("VNI"), try config.int("Port"), try config.int("MTU")
      )
      (gbp, learning, directRouting) = (
        try config.bool("GBP"), try config.bool("Learning"), try config.bool("DirectRouting")
      )
    } catch {
      throw VXLANConfigError(error.description)
    }
    let vniValue = vni ?? 1
    guard (0...0xff_ffff).contains(vniValue) else {
      throw VXLANConfigError("VNI \(vniValue) out of range")
    }
    let port = portOverride > 0 ? portOverride : configPort ?? 0
    guard (0...65535).contains(port) else { throw VXLANConfigError("Port \(port) out of range") }
    if let mtu, mtu <= 50 {
      throw VXLANConfigError("MTU \(mtu) leaves no room for the 50-byte vxlan header")
    }
    self.init(
      vni: UInt32(vniValue), port: UInt16(port), gbp: gbp ?? false, learning: learning ?? false,
      directRouting: directRouting ?? false, mtu: mtu)
  }

  public var deviceName: String { "flannel.\(vni)" }

  /// The IPv6 device of a dual-stack network.
  public var ipv6DeviceName: String { "flannel-v6.\(vni)" }

  /// MTU of `flannel.<VNI>` and FLANNEL_MTU: (Backend.MTU or the external MTU) − 50.
  public func deviceMTU(externalMTU: Int) -> Int { (mtu ?? externalMTU) - 50 }

  /// MTU of `flannel-v6.<VNI>` as stock ends up with it: stock asks for the IPv4 device's
  /// value, and the kernel clamps a vxlan device on an underlay device to that device's MTU
  /// less the IPv6 encapsulation (40 + 8 + 8 + 14 = 70 bytes).
  public func ipv6DeviceMTU(externalMTU: Int) -> Int {
    min(deviceMTU(externalMTU: externalMTU), externalMTU - 70)
  }
}

public struct VXLANConfigError: Error, Equatable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
