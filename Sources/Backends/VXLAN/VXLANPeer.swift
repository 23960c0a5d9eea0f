import FlannelCore
import Netlink

/// What one remote vxlan lease becomes in the kernel for one address family
/// (flannel-behaviour §5.2): subnet S, its network address G, the peer's VTEP MAC M and
/// public IP P — for IPv6 the lease's IPv6 subnet, PublicIPv6 and BackendV6Data's VtepMAC.
struct VXLANPeer<Family: VXLANFamily>: Equatable {
  let subnet: Family.Subnet
  let publicIP: Family.Address
  let vtepMAC: MACAddress
  /// DirectRouting chose a plain route via the peer (same L2 network): no neighbour, no FDB.
  var direct = false

  init(subnet: Family.Subnet, publicIP: Family.Address, vtepMAC: MACAddress) {
    self.subnet = subnet
    self.publicIP = publicIP
    self.vtepMAC = vtepMAC
  }

  var gatewayAddress: Family.Address { Family.gatewayAddress(of: subnet) }

  /// The id of this peer's nexthop object (IPv4), nil for plain routes.
  var nexthopID: UInt32? { Family.nexthopID(of: subnet) }

  func neighbour(device: Int) -> NeighbourEntry<Family.Address> {
    NeighbourEntry(linkIndex: device, ip: gatewayAddress, mac: vtepMAC)
  }

  /// An FDB entry is the pair (VTEP MAC, public IP): leases of one node share it.
  struct FDBKey: Hashable {
    let mac: MACAddress
    let destination: Family.Address?
  }

  var fdbKey: FDBKey { FDBKey(mac: vtepMAC, destination: publicIP) }

  func fdb(device: Int) -> BridgeFDBEntry<Family.Address> {
    BridgeFDBEntry(linkIndex: device, mac: vtepMAC, destination: publicIP)
  }

  /// `S via G dev <device> onlink`, or `S via P` when direct; plain (no nexthop object).
  func route(device: Int) -> Family.KernelRoute {
    direct
      ? Family.route(to: subnet, via: publicIP, device: nil, onlink: false, nexthopID: nil)
      : Family.route(to: subnet, via: gatewayAddress, device: device, onlink: true, nexthopID: nil)
  }
}

extension VXLANPeer where Family == VXLANIPv4 {
  /// nil when BackendData has no usable VtepMAC.
  init?(_ lease: Lease) {
    guard let mac = macInBackendData(lease.attrs.backendData) else { return nil }
    self.init(subnet: lease.subnet, publicIP: lease.attrs.publicIP, vtepMAC: mac)
  }
}

extension VXLANPeer where Family == VXLANIPv6 {
  /// nil when the lease has no IPv6 subnet, no PublicIPv6 or no usable VtepMAC in its
  /// BackendV6Data (such a peer is reached over IPv4 only).
  init?(ipv6Of lease: Lease) {
    guard let subnet = lease.ipv6Subnet, let publicIP = lease.attrs.publicIPv6,
      let mac = macInBackendData(lease.attrs.backendV6Data)
    else { return nil }
    self.init(subnet: subnet, publicIP: publicIP, vtepMAC: mac)
  }
}

/// `{"VNI":…,"VtepMAC":"…"}`'s MAC (member names matched as Go's JSON decoder does).
private func macInBackendData(_ data: JSONValue?) -> MACAddress? {
  guard let text = data?[caseInsensitive: "VtepMAC"]?.stringValue else { return nil }
  return MACAddress(text)
}
