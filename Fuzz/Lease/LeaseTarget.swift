@testable import FlannelCore

/// Lease values (`LeaseAttrs.decode`) and their BackendData, on arbitrary bytes and on
/// generated leases. A lease that decodes is written back in both stock layouts (v0.10 and
/// HEAD) and each decodes to the same lease; the bytes as BackendData of a HEAD-style lease
/// come back as the same JSON value; a VtepMAC that parses prints and parses back to itself.
enum LeaseTarget: ParserTarget {
  static let name = "lease"
  static let requiredChecks = [
    "decoded input round trip", "input as BackendData", "generated lease round trip",
    "VtepMAC round trip",
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
      Checks.count("input as BackendData")
    }
    var input = FuzzInput(bytes)
    let lease = generatedLease(&input)
    roundTrip(lease)
    readVXLANFields(lease.backendData)
    Checks.count("generated lease round trip")
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
          && sameJSON(reread.backendData, lease.backendData),
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
    return LeaseAttrs(
      publicIP: ip, backendType: type, backendData: data == .null ? nil : data)
  }
}
