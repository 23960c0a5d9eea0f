import FlannelCore

/// The backends this daemon knows, and what each means for the lease and subnet.env before
/// the kernel side exists: the lease attributes other nodes route by, and FLANNEL_MTU.
public enum BackendKind: String, Sendable, CaseIterable {
  case udp
  case vxlan
  case hostGW = "host-gw"

  /// The backend type from `-backend` when given, else from the config (lower-cased).
  public init(type: String) throws(UnknownBackend) {
    guard let kind = BackendKind(rawValue: type.lowercased()) else {
      throw UnknownBackend(type: type)
    }
    self = kind
  }

  /// FLANNEL_MTU: udp adds 20 IP + 8 UDP bytes, vxlan 50; host-gw adds nothing.
  public func mtu(externalMTU: Int) -> Int {
    switch self {
    case .udp: return externalMTU - 28
    case .vxlan: return externalMTU - 50
    case .hostGW: return externalMTU
    }
  }

  /// BackendType as stock writes it into the lease (udp writes none).
  public var leaseBackendType: String {
    switch self {
    case .udp: return ""
    case .vxlan: return "vxlan"
    case .hostGW: return "host-gw"
    }
  }
}

public struct UnknownBackend: Error, Sendable, CustomStringConvertible {
  public let type: String
  public var description: String {
    "unknown backend type: \(type); set \"Backend\": {\"Type\": …} to one of "
      + BackendKind.allCases.map(\.rawValue).joined(separator: ", ")
  }
}
