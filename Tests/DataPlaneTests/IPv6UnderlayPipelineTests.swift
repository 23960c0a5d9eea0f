import Glibc
import Testing

@testable import DataPlane

/// Both pipelines of an AF_INET6 socket (an IPv6-only network): leases fd10:0:0:2::/64 via
/// [fd00:77::12]:7890 and fd10:0:0:3::/64 via [fd00:77::13]:7890.
@Suite struct IPv6UnderlayPipelineTests {
  static func packet(to subnet: UInt64, size: Int = 100) -> [UInt8] {
    IPv6Fields(
      destination: ipv6Bytes(subnet, 5), payload: [UInt8](repeating: 7, count: size - 40)
    ).bytes
  }
  /// From peer fd00:77::12's subnet to ours.
  static let fromPeer = IPv6Fields(
    source: ipv6Bytes(0xfd10_0000_0000_0002, 5), destination: ipv6Bytes(0xfd10_0000_0000_000f, 2),
    payload: [UInt8](repeating: 9, count: 60)
  ).bytes

  /// A send's destination as the kernel reads it: `msg_namelen` bytes of a sockaddr_in6.
  static func destination(_ header: UnsafeMutablePointer<msghdr>) -> (
    length: Int, family: Int32, high: UInt64, low: UInt64, port: UInt16
  ) {
    let name = header.pointee.msg_name!.load(as: sockaddr_in6.self)
    let parts = socketAddress6Parts(name)
    return (
      Int(header.pointee.msg_namelen), Int32(name.sin6_family), parts.high, parts.low, parts.port
    )
  }

  @Test func packetsGoToEachPeersPublicIPv6InRunsPerPeer() throws {
    let lab = PipelineLab(underlayIPv6: true)
    let routes = PipelineLab.ipv6OnlyRoutes
    lab.read(Self.packet(to: 0xfd10_0000_0000_0002), into: 0, routes: routes)
    lab.read(Self.packet(to: 0xfd10_0000_0000_0002), into: 1, routes: routes)
    lab.read(Self.packet(to: 0xfd10_0000_0000_0003), into: 2, routes: routes)
    lab.tunToUDP.flush()
    let intents = lab.take()
    guard intents.count == 2, case .send(let first, .udpSend, id: 0) = intents[0],
      case .send(let second, .udpSend, id: 2) = intents[1]
    else {
      Issue.record("expected two run sends, got \(intents)")
      return
    }
    let a = Self.destination(first)
    #expect(a.length == MemoryLayout<sockaddr_in6>.size && a.family == AF_INET6)
    #expect(a.high == PipelineLab.peer6.high && a.low == PipelineLab.peer6.low && a.port == 7890)
    #expect(first.pointee.msg_iovlen == 2, "two packets to one peer: one GSO run")
    let b = Self.destination(second)
    #expect(b.low == PipelineLab.otherPeer6.low && b.port == 7890)
    #expect(lab.counter(.ipv6PacketsSent) == 3)
  }

  @Test func aPacketFromThePeersSubnetIsWritten() {
    let lab = PipelineLab(underlayIPv6: true)
    lab.receive6(Self.fromPeer, into: 1)
    guard case .write(_, let length, .tunWrite, id: 1) = lab.take().first else {
      Issue.record("expected a TUN write")
      return
    }
    #expect(length == Self.fromPeer.count)
    #expect(lab.counter(.ipv6PacketsWritten) == 1)
  }

  @Test func anotherPeersSubnetIsAWrongSource() {
    let lab = PipelineLab(underlayIPv6: true)
    lab.receive6(Self.fromPeer, into: 1, from: PipelineLab.otherPeer6)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropIPv6WrongSource) == 1)
  }

  @Test func anUnknownSenderIsDropped() {
    let lab = PipelineLab(underlayIPv6: true)
    lab.receive6(Self.fromPeer, into: 1, from: (0xfd00_0077_0000_0000, 0x99))
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropUnknownSource) == 1)
  }

  @Test func anIPv4PacketHasNoPlaceOnAnIPv6OnlyNetwork() {
    let lab = PipelineLab(underlayIPv6: true)
    lab.receive6(PipelineLab.packet(), into: 1)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropNotIPv6) == 1)
  }

  /// A name the kernel would never give an AF_INET6 socket: cut short, or another family.
  @Test(arguments: [
    (MemoryLayout<sockaddr_in>.size, AF_INET6), (MemoryLayout<sockaddr_in6>.size, AF_INET),
    (0, AF_INET6), (ReceiveLayout.ipv6.nameSize + 1, AF_INET6),
  ])
  func aMalformedSenderNameIsCountedAndDropped(length: Int, family: Int32) {
    let lab = PipelineLab(underlayIPv6: true)
    lab.receive6(Self.fromPeer, into: 1, nameLength: length, family: family)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropBadSenderName) == 1)
  }

  /// The IPv4 socket's pipeline checks its names the same way.
  @Test func anIPv6NameOnTheIPv4PipelineIsMalformed() {
    let lab = PipelineLab()
    lab.receive6(PipelineLab.packet(), into: 1, routes: PipelineLab.routes)
    #expect(lab.take() == [.recycleUDP(1)])
    #expect(lab.counter(.dropBadSenderName) == 1)
  }
}
