import Glibc
import Testing

@testable import DataPlane

/// The steering program with IPv6 inner packets: both directions of a flow meet on one
/// socket, and the kernel's answer is the Swift model's (real sockets on loopback).
@Suite struct ReusePortSteeringIPv6Tests {
  /// An IPv6 header with the given addresses and next header, then the ports word.
  static func packet(_ source: [UInt8], _ destination: [UInt8], _ ports: UInt32, next: UInt8 = 6)
    -> [UInt8]
  {
    var fields = IPv6Fields(nextHeader: next, source: source, destination: destination)
    fields.payload = (0..<4).map { UInt8(truncatingIfNeeded: ports >> (24 - 8 * UInt32($0))) }
    return fields.bytes
  }

  static func random(_ generator: inout some RandomNumberGenerator) -> [UInt8] {
    ipv6Bytes(
      0xfd10_0000_0000_0000 | UInt64.random(in: 0...0xffff, using: &generator),
      UInt64.random(in: 0...UInt64.max, using: &generator))
  }

  @Test(arguments: [2, 3, 4])
  func aPacketAndItsReplyPickTheSameSocket(groupSize: Int) {
    var generator = SplitMix64(state: UInt64(groupSize))
    for _ in 0..<2000 {
      let a = Self.random(&generator)
      let b = Self.random(&generator)
      let ports = UInt32.random(in: 0...UInt32.max, using: &generator)
      for next: UInt8 in [6, 17, 58, 60] {
        let forward = Self.packet(a, b, ports, next: next)
        let reply = Self.packet(
          b, a, next == 58 ? ports ^ 0x0100_0000 : ports << 16 | ports >> 16, next: next)
        #expect(
          ReusePortSteering.socketIndex(payload: forward, groupSize: groupSize)
            == ReusePortSteering.socketIndex(payload: reply, groupSize: groupSize))
      }
    }
  }

  @Test func flowsOfOneHostPairSpreadOverTheSockets() {
    let a = ipv6Bytes(0xfd10_0000_0000_0001, 2)
    let b = ipv6Bytes(0xfd10_0000_0000_0002, 2)
    let sockets = Set(
      (0..<64).map {
        ReusePortSteering.socketIndex(
          payload: Self.packet(a, b, UInt32(40000 + 2 * $0) << 16 | 5001), groupSize: 4)
      })
    #expect(sockets.count == 4)
  }

  /// Over both underlays: the reuseport program sees the UDP payload (the inner packet) on an
  /// AF_INET6 group as on an AF_INET one.
  @Test(arguments: [2, 4], [UnderlayAddress.ipv4(0x7f00_0001), .ipv6(high: 0, low: 1)])
  func datagramsArriveWhereTheModelSays(groupSize: Int, loopback: UnderlayAddress) throws {
    let first = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0, reusePort: true)
    var group = [first]
    for _ in 1..<groupSize {
      group.append(
        try UDPSocket(underlay: loopback, port: first.port, bufferSize: 0, reusePort: true))
    }
    try first.steerByInnerFlow(groupSize: groupSize)
    let client = try UDPSocket(underlay: loopback, port: 0, bufferSize: 0)
    let helper = ReusePortSteeringTests()
    var generator = SplitMix64(state: 99)
    var seen = Set<UInt32>()
    for flow in 0..<48 {
      let payload = Self.packet(
        Self.random(&generator), Self.random(&generator),
        UInt32.random(in: 0...UInt32.max, using: &generator), next: [6, 17, 58, 0][flow % 4])
      let expected = ReusePortSteering.socketIndex(payload: payload, groupSize: groupSize)
      seen.insert(expected)
      try helper.send(payload, from: client, to: loopback, port: first.port)
      #expect(try helper.receiver(of: payload, in: group) == Int(expected), "flow \(flow)")
    }
    #expect(seen.count == groupSize)
    // Cut off inside the addresses or before the ports: socket 0.
    let cut = Self.packet(ipv6Bytes(1, 2), ipv6Bytes(3, 4), 0x1234_5678)
    for short in [Array(cut.prefix(30)), Array(cut.prefix(42))] {
      try helper.send(short, from: client, to: loopback, port: first.port)
      #expect(try helper.receiver(of: short, in: group) == 0)
    }
  }
}
