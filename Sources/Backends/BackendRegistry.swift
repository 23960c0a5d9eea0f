import FlannelCore

/// Backends by type name, as flannel looks them up: the config's `Backend.Type`, lower-cased
/// (or `-backend`).
public enum BackendRegistry {
  public static let knownTypes = ["udp", "vxlan", "host-gw", "wireguard"]

  /// Checks what a backend reads from the config before anything is set up, so that a bad
  /// `Backend` member is reported and the config read again, as a bad `Network` is.
  public static func validate(type: String, config: NetworkConfig, portOverride: Int) throws {
    switch type.lowercased() {
    case "udp":
      _ = try config.backend.int("Port")
    case "vxlan":
      _ = try VXLANOptions(config.backend, portOverride: portOverride)
    case "host-gw":
      break
    case "wireguard":
      _ = try WireGuardBackendConfig(config.backend)
    default:
      throw UnknownBackend(type: type)
    }
  }

  public static func make(type: String, context: BackendContext) throws -> any Backend {
    switch type.lowercased() {
    case "udp":
      return try UDPBackend(context: context)
    case "vxlan":
      return try VXLANBackend(context: context)
    case "host-gw":
      return try HostGWBackend(context: context)
    case "wireguard":
      return try WireGuardBackend(context: context)
    default:
      throw UnknownBackend(type: type)
    }
  }
}

public struct UnknownBackend: Error, Sendable, CustomStringConvertible {
  public let type: String
  public init(type: String) { self.type = type }
  public var description: String {
    "unknown backend type: \(type); set \"Backend\": {\"Type\": …} to one of "
      + BackendRegistry.knownTypes.joined(separator: ", ")
  }
}
