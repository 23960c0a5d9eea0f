/// The inner packet the probe sends through the tunnel: an IPv4 ICMP echo request with
/// valid checksums, so the peer's kernel answers it.
enum InnerPacket {
  static func echoRequest(from source: [UInt8], to destination: [UInt8], sequence: UInt16)
    -> [UInt8]
  {
    let payload = Array("swift-flannel wg".utf8)
    var icmp: [UInt8] = [8, 0, 0, 0, 0x5f, 0x6c, UInt8(sequence >> 8), UInt8(sequence & 0xff)]
    icmp += payload
    let icmpSum = checksum(icmp)
    icmp[2] = UInt8(icmpSum >> 8)
    icmp[3] = UInt8(icmpSum & 0xff)
    let total = 20 + icmp.count
    var header: [UInt8] = [
      0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0x12, 0x34, 0x40, 0, 64, 1, 0, 0,
    ]
    header += source + destination
    let headerSum = checksum(header)
    header[10] = UInt8(headerSum >> 8)
    header[11] = UInt8(headerSum & 0xff)
    return header + icmp
  }

  /// The Internet checksum (RFC 1071).
  static func checksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var index = 0
    while index + 1 < bytes.count {
      sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
      index += 2
    }
    if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
  }

  /// "a.b.c.d" → 4 bytes.
  static func address(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".").compactMap { UInt8($0) }
    return parts.count == 4 ? parts : nil
  }
}
