import FlannelCore

/// What one remote vxlan lease becomes: its IPv4 peer on `flannel.<VNI>` and, on a
/// dual-stack network for a lease with an IPv6 subnet, a PublicIPv6 and a VtepMAC in its
/// BackendV6Data, its IPv6 peer on `flannel-v6.<VNI>` (a lease without them is reached over
/// IPv4 only). Either half may be missing, not both.
struct VXLANLeasePeers: Equatable {
  var ipv4: VXLANPeer<VXLANIPv4>?
  var ipv6: VXLANPeer<VXLANIPv6>?
}

extension PeerIndex<LeaseSubnets, VXLANLeasePeers>.Change {
  /// The IPv4 half, nil when it did not change.
  var ipv4: (old: VXLANPeer<VXLANIPv4>?, new: VXLANPeer<VXLANIPv4>?)? {
    old?.ipv4 == new?.ipv4 ? nil : (old?.ipv4, new?.ipv4)
  }

  /// The IPv6 half, nil when it did not change.
  var ipv6: (old: VXLANPeer<VXLANIPv6>?, new: VXLANPeer<VXLANIPv6>?)? {
    old?.ipv6 == new?.ipv6 ? nil : (old?.ipv6, new?.ipv6)
  }
}
