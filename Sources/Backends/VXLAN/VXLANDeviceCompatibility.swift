import Netlink

/// Why an existing `flannel.<VNI>` (or `flannel-v6.<VNI>`) cannot be reused (stock's rules: VNI; VTEP device index,
/// local address and port when both sides set them; GBP); nil when it can. Learning is not
/// compared, as stock does not.
func vxlanIncompatibility(existing: Link, wanted: VXLANAttributes) -> String? {
  guard existing.kind == "vxlan", let have = existing.vxlan else {
    return "type \(existing.kind ?? "none") instead of vxlan"
  }
  if have.vni != wanted.vni { return "vni \(have.vni) instead of \(wanted.vni)" }
  if let a = have.linkIndex, let b = wanted.linkIndex, a != b {
    return "vtep device index \(a) instead of \(b)"
  }
  if let a = have.local, let b = wanted.local, a != b { return "local \(a) instead of \(b)" }
  if let a = have.local6, let b = wanted.local6, a != b { return "local \(a) instead of \(b)" }
  if have.port > 0 && wanted.port > 0 && have.port != wanted.port {
    return "port \(have.port) instead of \(wanted.port)"
  }
  if have.gbp != wanted.gbp { return "gbp \(have.gbp) instead of \(wanted.gbp)" }
  return nil
}
