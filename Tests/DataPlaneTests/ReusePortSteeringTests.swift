import Glibc
import Testing

@testable import DataPlane

/// The steering program on real sockets: a group of SO_REUSEPORT sockets on 127.0.0.1, a
/// client sending hand-made packets as payloads; each must arrive at the socket the Swift
/// model of the program names (loopback only, no namespace needed).
@Suite struct ReusePortSteeringTests {
  @Test func layoutMatchesC() {
    #expect(MemoryLayout<SocketFilterInstruction>.size == 8)
    #expect(MemoryLayout<SocketFilterProgram>.size == 16)
  }

  /// An IPv4 packet header with the given addresses, protocol and the first word past the
  /// header (TCP/UDP: the ports; ICMP: type, code, checksum); only what the program reads.
  static func packet(
    _ source: UInt32, _ destination: UInt32, _ ports: UInt32, ihl: UInt8 = 5,
    protocol proto: UInt8 = 6, fragment: UInt16 = 0
  ) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Int(ihl) * 4 + 20)
    bytes[0] = 0x40 | ihl
    bytes[6] = UInt8(fragment >> 8)
    bytes[7] = UInt8(fragment & 0xff)
    bytes[9] = proto
    for (offset, value) in [(12, source), (16, destination), (Int(ihl) * 4, ports)] {
      for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * i)) }
    }
    return bytes
  }

  /// The reply to `packet(source, destination, ports)`: addresses and ports swapped.
  static func reply(
    _ source: UInt32, _ destination: UInt32, _ ports: UInt32, protocol proto: UInt8 = 6
  ) -> [UInt8] {
    packet(destination, source, ports << 16 | ports >> 16, protocol: proto)
  }

  /// Both directions of a flow pick the same socket (the TUN then hands the worker that
  /// receives a flow's replies its requests too); a ping's request and reply as well, though
  /// their type and checksum differ; so do a datagram's fragments, which carry ports only in
  /// the first.
  @Test(arguments: [2, 3, 4])
  func aPacketAndItsReplyPickTheSameSocket(groupSize: Int) {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let a = UInt32.random(in: 0x0a00_0000...0x0aff_ffff, using: &generator)
      let b = UInt32.random(in: 0x0a00_0000...0x0aff_ffff, using: &generator)
      let ports = UInt32.random(in: 0...UInt32.max, using: &generator)
      for proto: UInt8 in [6, 17] {
        #expect(
          ReusePortSteering.socketIndex(
            payload: Self.packet(a, b, ports, protocol: proto), groupSize: groupSize)
            == ReusePortSteering.socketIndex(
              payload: Self.reply(a, b, ports, protocol: proto), groupSize: groupSize))
      }
      let request = Self.packet(a, b, 0x0800_0000 | ports & 0xffff, protocol: 1)
      let echoReply = Self.packet(b, a, ports >> 16, protocol: 1)
      #expect(
        ReusePortSteering.socketIndex(payload: request, groupSize: groupSize)
          == ReusePortSteering.socketIndex(payload: echoReply, groupSize: groupSize))
      let first = Self.packet(a, b, ports, protocol: 17, fragment: 0x2000)
      let later = Self.packet(a, b, ~ports, protocol: 17, fragment: 0x00b9)
      let whole = Self.packet(a, b, 0, protocol: 1)
      #expect(
        Set(
          [first, later, whole].map {
            ReusePortSteering.socketIndex(payload: $0, groupSize: groupSize)
          }
        ).count == 1)
    }
  }

  @Test(arguments: [2, 3, 4])
  func datagramsArriveWhereTheModelSays(groupSize: Int) throws {
    let loopback: UInt32 = 0x7f00_0001
    let first = try UDPSocket(address: loopback, port: 0, bufferSize: 0, reusePort: true)
    var group = [first]
    for _ in 1..<groupSize {
      group.append(
        try UDPSocket(address: loopback, port: first.port, bufferSize: 0, reusePort: true))
    }
    #expect(throws: Never.self) { try first.steerByInnerFlow(groupSize: groupSize) }
    let client = try UDPSocket(address: loopback, port: 0, bufferSize: 0)
    var seen = Set<UInt32>()
    // One container pair, 64 connections: even client ports only (Linux gives connect()
    // even ports), to the server port and back; TCP, UDP, ICMP, first and later fragments.
    for flow in 0..<64 {
      let clientPort = UInt32(40000 + 2 * (flow / 2))
      let ports = flow % 2 == 0 ? clientPort << 16 | 5001 : 5001 << 16 | clientPort
      let (source, destination): (UInt32, UInt32) =
        flow % 2 == 0 ? (0x0a01_0102, 0x0a01_0202) : (0x0a01_0202, 0x0a01_0102)
      let proto: UInt8 = [6, 17, 6, 1][flow % 4]
      let fragment: UInt16 = flow % 7 == 3 ? 0x2000 : flow % 7 == 5 ? 0x0040 : 0
      let payload = Self.packet(
        source, destination, ports, ihl: flow % 5 == 0 ? 6 : 5, protocol: proto,
        fragment: fragment)
      let expected = ReusePortSteering.socketIndex(payload: payload, groupSize: groupSize)
      seen.insert(expected)
      try send(payload, from: client, to: loopback, port: first.port)
      #expect(try receiver(of: payload, in: group) == Int(expected), "flow \(flow)")
    }
    #expect(seen.count == groupSize, "64 flows should reach every socket")
    #expect(
      seen.count == groupSize
        && (0..<UInt32(groupSize)).allSatisfy { index in
          (0..<32).filter {
            ReusePortSteering.socketIndex(
              payload: Self.packet(0x0a01_0102, 0x0a01_0202, UInt32(40000 + 2 * $0) << 16 | 5001),
              groupSize: groupSize) == index
          }.count >= 32 / groupSize / 3
        }, "even client ports spread over every socket")
    // Too short to be a packet, or cut off before the ports: socket 0 (its worker drops and
    // counts it).
    for short in [[UInt8](), [0x45, 0, 0], Array(Self.packet(0x0a01_0102, 0x0a01_0202, 0)[..<22])] {
      try send(short, from: client, to: loopback, port: first.port)
      #expect(try receiver(of: short, in: group) == 0)
    }
  }

  func send(_ payload: [UInt8], from client: UDPSocket, to address: UInt32, port: UInt16) throws {
    try send(payload, from: client, to: .ipv4(address), port: port)
  }

  /// The same to an address of either family (the client's).
  func send(
    _ payload: [UInt8], from client: UDPSocket, to address: UnderlayAddress, port: UInt16
  ) throws {
    var target: sockaddr_in6
    switch address {
    case .ipv4(let address): target = NextHop.ipv4(address, port).address
    case .ipv6(let high, let low): target = makeSocketAddress6(high: high, low: low, port: port)
    }
    let sent = payload.withUnsafeBytes { bytes in
      withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(client.fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(client.nameLength))
        }
      }
    }
    #expect(sent == payload.count)
  }

  /// Polls the group (up to 2 s) until one socket has a datagram; returns its index after
  /// checking the bytes.
  func receiver(of payload: [UInt8], in group: [UDPSocket]) throws -> Int? {
    var buffer = [UInt8](repeating: 0, count: 2048)
    for _ in 0..<2000 {
      for (index, socket) in group.enumerated() {
        let n = recv(socket.fd, &buffer, buffer.count, 0)
        if n >= 0 {
          #expect(Array(buffer[..<n]) == payload)
          return index
        }
      }
      usleep(1000)
    }
    return nil
  }
}
