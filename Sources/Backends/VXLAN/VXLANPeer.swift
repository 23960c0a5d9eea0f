import FlannelCore
import Netlink

/// What one remote vxlan lease becomes in the kernel (flannel-behaviour §5.2): subnet S,
/// its network address G, the peer's VTEP MAC M and public IP P.
struct VXLANPeer: Equatable {
  let subnet: IPv4Network
  let publicIP: IPv4Address
  let vtepMAC: MACAddress
  /// DirectRouting chose a plain route via the peer (same L2 network): no neighbour, no FDB.
  var direct = false

  var gatewayAddress: IPv4Address { subnet.address }

  /// The id of this peer's nexthop object: the subnet's network address, unique among
  /// leases (their subnets do not overlap) and recognisable as ours (inside the Network).
  var nexthopID: UInt32 { subnet.address.value }

  /// nil when BackendData has no usable VtepMAC.
  init?(_ lease: Lease) {
    guard let text = lease.attrs.backendData?[caseInsensitive: "VtepMAC"]?.stringValue,
      let mac = MACAddress(text)
    else { return nil }
    subnet = lease.subnet
    publicIP = lease.attrs.publicIP
    vtepMAC = mac
  }

  func neighbour(device: Int) -> Neighbour {
    Neighbour(linkIndex: device, ip: gatewayAddress, mac: vtepMAC)
  }

  func fdb(device: Int) -> FDBEntry {
    FDBEntry(linkIndex: device, mac: vtepMAC, destination: publicIP)
  }

  /// `S via G dev flannel.<VNI> onlink`, or `S via P` when direct.
  func route(device: Int) -> Route {
    direct
      ? Route(destination: subnet, gateway: publicIP)
      : Route(destination: subnet, gateway: gatewayAddress, outputIndex: device, onlink: true)
  }
}
