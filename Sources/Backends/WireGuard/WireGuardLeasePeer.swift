import FlannelCore
import WireGuard

/// A remote lease as a WireGuard peer, as stock configures its kernel device from it
/// (flannel-behaviour §6b): the lease's public key, endpoint PublicIP:Port (a lease without
/// Port, from older flannel, means our own listen port), allowed IPs = the lease's subnet.
struct WireGuardLeasePeer: Equatable, Sendable {
  var publicKey: PublicKey
  var endpoint: Endpoint
  var subnet: IPv4Network

  /// Why a lease gives no peer.
  struct Refusal: Error, Equatable, CustomStringConvertible {
    let description: String
  }

  /// The peer `lease` describes (a lease whose BackendType is "wireguard").
  static func from(_ lease: Lease, defaultPort: UInt16) -> Result<WireGuardLeasePeer, Refusal> {
    let data: WireGuardLeaseData
    do {
      data = try WireGuardLeaseData(backendData: lease.attrs.backendData)
    } catch {
      return .failure(Refusal(description: "subnet \(lease.subnet): \(error)"))
    }
    guard let key = try? PublicKey(bytes: data.publicKey.bytes) else {
      return .failure(
        Refusal(description: "subnet \(lease.subnet): BackendData.PublicKey is not a 32-byte key"))
    }
    return .success(
      WireGuardLeasePeer(
        publicKey: key,
        endpoint: Endpoint(address: lease.attrs.publicIP.value, port: data.port ?? defaultPort),
        subnet: lease.subnet))
  }
}
