import FlannelCore
import Logging
import SubnetManager
import Testing
import WireGuard

@testable import Backends

/// Remote leases → WireGuard peers, as stock configures its device from them.
@Suite struct WireGuardPeerTableTests {
  static let keyA = "sFZyQ2bG7C+8JF4rGNbQTqJlbtKzJ9rUIMEeZ9tFa0Q="
  static let keyB = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

  static func lease(
    _ subnet: String, _ publicIP: String, type: String = "wireguard", data: String?
  ) -> Lease {
    Lease(
      subnet: IPv4Network(subnet)!,
      attrs: LeaseAttrs(
        publicIP: IPv4Address(publicIP)!, backendType: type,
        backendData: data.map { try! JSONValue.parse($0) }),
      expiration: nil)
  }

  let logger = Logger(label: "test")

  @Test func aLeaseIsAPeerAtItsPublicIPAndPort() throws {
    let lease = Self.lease(
      "10.5.1.0/24", "192.168.9.2", data: "{\"PublicKey\":\"\(Self.keyA)\",\"Port\":51999}")
    let peer = try WireGuardLeasePeer.from(lease, defaultPort: 51820).get()
    #expect(peer.endpoint == Endpoint(address: 0xc0a8_0902, port: 51999))
    #expect(peer.subnet == IPv4Network("10.5.1.0/24"))
    #expect(peer.publicKey.base64Text == Self.keyA)
  }

  @Test func aLeaseWithoutPortMeansOurListenPort() throws {
    let lease = Self.lease("10.5.2.0/24", "192.168.9.3", data: "{\"PublicKey\":\"\(Self.keyB)\"}")
    let peer = try WireGuardLeasePeer.from(lease, defaultPort: 51820).get()
    #expect(peer.endpoint.port == 51820)
  }

  @Test(arguments: [
    "{\"Port\":51820}", "{\"PublicKey\":\"short\",\"Port\":51820}", "{\"PublicKey\":7}",
  ])
  func unusableBackendDataIsRefusedWithTheSubnet(data: String) {
    let lease = Self.lease("10.5.3.0/24", "192.168.9.4", data: data)
    guard case .failure(let refusal) = WireGuardLeasePeer.from(lease, defaultPort: 51820) else {
      Issue.record("accepted \(data)")
      return
    }
    #expect(refusal.description.hasPrefix("subnet 10.5.3.0/24: "))
  }

  @Test func tableFollowsEventsAndLeavesOutOwnForeignAndBrokenLeases() {
    var table = WireGuardPeerTable(defaultPort: 51820)
    table.ownSubnet = IPv4Network("10.5.9.0/24")
    let a = Self.lease("10.5.1.0/24", "192.168.9.2", data: "{\"PublicKey\":\"\(Self.keyA)\"}")
    let own = Self.lease("10.5.9.0/24", "192.168.9.9", data: "{\"PublicKey\":\"\(Self.keyB)\"}")
    let foreign = Self.lease("10.5.4.0/24", "192.168.9.5", type: "vxlan", data: "{\"VNI\":1}")
    let broken = Self.lease("10.5.5.0/24", "192.168.9.6", data: "{}")
    let changed1 = table.apply(.added(a), logger: logger)
    #expect(changed1)
    let changed2 = table.apply(.added(a), logger: logger)
    #expect(!changed2, "the same lease again changes nothing")
    let changed3 = table.apply(.added(own), logger: logger)
    #expect(!changed3)
    let changed4 = table.apply(.added(foreign), logger: logger)
    #expect(!changed4)
    let changed5 = table.apply(.added(broken), logger: logger)
    #expect(!changed5)
    #expect(table.sorted.map(\.subnet) == [IPv4Network("10.5.1.0/24")!])
    let moved = Self.lease(
      "10.5.1.0/24", "192.168.9.7", data: "{\"PublicKey\":\"\(Self.keyA)\"}")
    let changed6 = table.apply(.added(moved), logger: logger)
    #expect(changed6)
    #expect(table.sorted.first?.endpoint.address == 0xc0a8_0907)
    let changed7 = table.apply(.removed(moved), logger: logger)
    #expect(changed7)
    #expect(table.sorted.isEmpty)
  }
}
