@testable import FlannelCore

/// Lease values (`LeaseAttrs.decode`) and their BackendData, on arbitrary bytes and on
/// generated leases (with and without PublicIPv6 / BackendV6Data). A lease that decodes is
/// written back in both stock layouts (v0.10 and HEAD) and each decodes to the same lease;
/// the bytes as BackendData and as BackendV6Data of a HEAD-style lease come back as the same
/// JSON value, and as PublicIPv6 text they decode exactly when `IPv6Address` reads them; a
/// VtepMAC that parses prints and parses back to itself.
enum LeaseTarget: ParserTarget {
  static let name = "lease"
  static let requiredChecks = [
    "decoded input round trip", "input as BackendData", "generated lease round trip",
    "VtepMAC round trip", "generated dual-stack lease round trip", "input as PublicIPv6",
  ]

  static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
    let raw = text(bytes)
    if let lease = try? LeaseAttrs.decode(raw) {
      roundTrip(lease)
      Checks.count("decoded input round trip")
    }
    if let data = try? JSONValue.parse(raw) {
      let wrapped =
        #"{"PublicIP":"10.0.0.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":"#
        + raw + "}"
      let lease: LeaseAttrs
      do {
        lease = try LeaseAttrs.decode(wrapped)
      } catch {
        fatalError("property failed: lease with valid BackendData refused: \(error)")
      }
      require(
        sameJSON(lease.backendData, data == .null ? nil : data),
        "BackendData \(raw) read as \(String(describing: lease.backendData))")
      readVXLANFields(lease.backendData)
      roundTrip(lease)
      let v6Wrapped =
        #"{"PublicIP":"0.0.0.0","PublicIPv6":"fd00::1","BackendType":"vxlan","BackendV6Data":"#
        + raw + "}"
      let v6Lease = try? LeaseAttrs.decode(v6Wrapped)
      require(
        v6Lease != nil && sameJSON(v6Lease?.backendV6Data, data == .null ? nil : data),
        "BackendV6Data \(raw) read as \(String(describing: v6Lease?.backendV6Data))")
      Checks.count("input as BackendData")
    }
    // The input as the PublicIPv6 string: accepted exactly when it is an IPv6 address.
    let quoted = JSONValue.string(raw).serialized()
    let asIPv6 = try? LeaseAttrs.decode(#"{"PublicIP":"10.0.0.1","PublicIPv6":"# + quoted + "}")
    require(
      asIPv6?.publicIPv6 == IPv6Address(raw) && (asIPv6 == nil) == (IPv6Address(raw) == nil),
      "PublicIPv6 \(quoted) read as \(String(describing: asIPv6))")
    if let asIPv6 { roundTrip(asIPv6) }
    Checks.count("input as PublicIPv6")
    var input = FuzzInput(bytes)
    let lease = generatedLease(&input)
    roundTrip(lease)
    readVXLANFields(lease.backendData)
    Checks.count("generated lease round trip")
    if lease.publicIPv6 != nil || lease.backendV6Data != nil {
      Checks.count("generated dual-stack lease round trip")
    }
  }

  static func roundTrip(_ lease: LeaseAttrs) {
    for style in [LeaseAttrs.Style.v010, .head] {
      let written = lease.json(style: style)
      let reread: LeaseAttrs
      do {
        reread = try LeaseAttrs.decode(written)
      } catch {
        fatalError("property failed: our own lease JSON is refused: \(error) in \(written)")
      }
      require(
        reread.publicIP == lease.publicIP && reread.backendType == lease.backendType
          && sameJSON(reread.backendData, lease.backendData)
          && reread.publicIPv6 == lease.publicIPv6
          && sameJSON(reread.backendV6Data, lease.backendV6Data),
        "decode(json(\(style))) differs: \(lease) → \(written) → \(reread)")
      require(reread.json(style: style) == written, "lease JSON not stable: \(written)")
    }
  }

  /// What the vxlan backend reads from BackendData: VtepMAC as a MAC address, VNI.
  static func readVXLANFields(_ data: JSONValue?) {
    guard let data else { return }
    _ = data[caseInsensitive: "VNI"]?.int64Value
    guard let text = data[caseInsensitive: "VtepMAC"]?.stringValue,
      let mac = MACAddress(text)
    else { return }
    require(
      MACAddress(mac.description) == mac && mac.description.utf8.count == 17,
      "VtepMAC \(text) prints as \(mac.description)")
    Checks.count("VtepMAC round trip")
  }

  static func generatedLease(_ input: inout FuzzInput) -> LeaseAttrs {
    let ip = IPv4Address(input.u32())
    let types = ["", "udp", "vxlan", "host-gw", "extension"]
    let type = types[Int(input.byte()) % types.count]
    let data: JSONValue?
    switch input.byte() % 4 {
    case 0: data = nil
    case 1:
      let mac = (0..<6).map { _ in input.byte() }
      let separator = input.bool() ? ":" : "-"
      let text = mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: input.bool()) }
        .joined(separator: separator)
      data = .object([
        JSONMember("VNI", .int(Int64(input.u32()))), JSONMember("VtepMAC", .string(text)),
      ])
    case 2:
      data = .object([
        JSONMember("VNI", .int(1)),
        JSONMember("VtepMAC", .string(GeneratedJSON.string(&input, maxCount: 20))),
      ])
    default: data = GeneratedJSON.value(&input)
    }
    // The IPv6 fields come from the bytes after the IPv4 ones.
    let ipv6Flags = input.byte()
    let publicIPv6 =
      ipv6Flags & 1 != 0 ? IPv6Address(high: input.u64(), low: input.u64()) : nil
    let v6Data: JSONValue? =
      ipv6Flags & 2 != 0
      ? .object([
        JSONMember("VNI", .int(Int64(input.u32()))),
        JSONMember("VtepMAC", .string(GeneratedJSON.string(&input, maxCount: 20))),
      ]) : ipv6Flags & 4 != 0 ? GeneratedJSON.value(&input) : nil
    return LeaseAttrs(
      publicIP: ipv6Flags & 8 != 0 ? IPv4Address(0) : ip, backendType: type,
      backendData: data == .null ? nil : data, publicIPv6: publicIPv6,
      backendV6Data: v6Data == .null ? nil : v6Data)
  }
}
