import DataPlane
import FlannelCore
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// How the udp and wireguard backends set up their TUN, as stock sets up flannel0 and
/// flannel-wg: MTU, a longer transmit queue, up, `<lease network>/32` (kept when there), and
/// the route to the whole Network through it. On a dual-stack network (udp) the same for IPv6:
/// `<lease IPv6 subnet address>/128` and the route to the IPv6Network; on an IPv6-only one
/// (udp, `ipv4` nil) that alone.
enum TunDeviceSetup {
  static func configure(
    _ tun: TunDevice, mtu: Int, ipv4: (lease: IPv4Network, network: IPv4Network)?,
    netlink: NetlinkSocket, ipv6: (lease: IPv6Network, network: IPv6Network)? = nil
  ) throws {
    try tun.setMTU(mtu)
    // Stock leaves 500; a UDP burst overflows that (perf-notes §7).
    try tun.setTxQueueLength(2_000)
    try tun.setUp()
    guard let link = try netlink.link(named: tun.name) else {
      throw NetlinkError(operation: "link get", object: tun.name, errno: ENODEV)
    }
    if let ipv4 {
      let address = InterfaceAddress(
        linkIndex: link.index, address: ipv4.lease.address, prefixLength: 32)
      if try !netlink.addresses(linkIndex: link.index).contains(address) {
        try netlink.addAddress(address)
      }
      try netlink.replaceRoute(Netlink.Route(destination: ipv4.network, outputIndex: link.index))
    }
    guard let ipv6 else { return }
    let address6 = InterfaceIPv6Address(
      linkIndex: link.index, address: ipv6.lease.address, prefixLength: 128)
    if try !netlink.ipv6Addresses(linkIndex: link.index).contains(where: {
      $0.address == address6.address && $0.prefixLength == 128
    }) {
      try netlink.addIPv6Address(address6, detectDuplicates: false)
    }
    try netlink.replaceIPv6Route(IPv6Route(destination: ipv6.network, outputIndex: link.index))
  }
}
