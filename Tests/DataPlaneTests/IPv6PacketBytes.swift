@testable import DataPlane

/// Test helpers: IPv6 packets as byte arrays, built field by field (addresses as 16 bytes).
struct IPv6Fields {
  var hopLimit: UInt8 = 64
  var nextHeader: UInt8 = 17
  /// fd10:0:0:1::2 → fd10:0:0:2::5 (leases fd10:0:0:1::/64 and fd10:0:0:2::/64).
  var source: [UInt8] = ipv6Bytes(0xfd10_0000_0000_0001, 2)
  var destination: [UInt8] = ipv6Bytes(0xfd10_0000_0000_0002, 5)
  /// Extension headers and upper-layer bytes, after the fixed header.
  var payload: [UInt8] = Array(0..<16)
  /// The payload length field; nil: the payload's real length.
  var payloadLength: Int? = nil

  var bytes: [UInt8] {
    var b = [UInt8](repeating: 0, count: 40)
    b[0] = 0x60
    put16(&b, 4, UInt16(payloadLength ?? payload.count))
    b[6] = nextHeader
    b[7] = hopLimit
    b.replaceSubrange(8..<24, with: source)
    b.replaceSubrange(24..<40, with: destination)
    return b + payload
  }
}

/// Sixteen bytes of `high:low`.
func ipv6Bytes(_ high: UInt64, _ low: UInt64) -> [UInt8] {
  (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
    + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
}

/// An ICMPv6 or TCP/UDP checksum over the IPv6 pseudo-header, computed naively (independent
/// of the code under test): 0 when `packet`'s upper-layer checksum verifies.
func referenceIPv6Checksum(_ packet: [UInt8], upperLayerAt offset: Int, protocol proto: UInt8)
  -> UInt16
{
  let upper = Array(packet[offset...])
  var pseudo = Array(packet[8..<40])
  pseudo += [
    UInt8(upper.count >> 24 & 0xff), UInt8(upper.count >> 16 & 0xff),
    UInt8(upper.count >> 8 & 0xff), UInt8(upper.count & 0xff), 0, 0, 0, proto,
  ]
  return referenceChecksum(pseudo + upper)
}
