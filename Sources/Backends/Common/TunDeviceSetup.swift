import DataPlane
import FlannelCore
import Netlink

#if canImport(Glibc)
  import Glibc
#endif

/// How the udp and wireguard backends set up their TUN, as stock sets up flannel0 and
/// flannel-wg: MTU, a longer transmit queue, up, `<lease network>/32` (kept when there), and
/// the route to the whole Network through it.
enum TunDeviceSetup {
  static func configure(
    _ tun: TunDevice, mtu: Int, lease: IPv4Network, network: IPv4Network, netlink: NetlinkSocket
  ) throws {
    try tun.setMTU(mtu)
    // Stock leaves 500; a UDP burst overflows that (perf-notes §7).
    try tun.setTxQueueLength(2_000)
    try tun.setUp()
    guard let link = try netlink.link(named: tun.name) else {
      throw NetlinkError(operation: "link get", object: tun.name, errno: ENODEV)
    }
    let address = InterfaceAddress(
      linkIndex: link.index, address: lease.address, prefixLength: 32)
    if try !netlink.addresses(linkIndex: link.index).contains(address) {
      try netlink.addAddress(address)
    }
    try netlink.replaceRoute(Netlink.Route(destination: network, outputIndex: link.index))
  }
}
