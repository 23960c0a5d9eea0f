import DataPlane
import Testing

@testable import Backends

/// `/debug/wireguard` prints what `wg show` prints.
@Suite struct WireGuardShowTextTests {
  @Test(arguments: [
    (0, "Now"), (1, "1 second ago"), (9, "9 seconds ago"), (65, "1 minute, 5 seconds ago"),
    (3600, "1 hour ago"), (90061, "1 day, 1 hour, 1 minute, 1 second ago"),
  ])
  func handshakeAges(seconds: Int, text: String) {
    #expect(WireGuardShowText.ago(.seconds(seconds)) == text)
  }

  @Test(arguments: [
    (UInt64(0), "0 B"), (UInt64(564), "564 B"), (UInt64(1023), "1023 B"),
    (UInt64(1024), "1.00 KiB"), (UInt64(213_710_000), "203.81 MiB"),
    (UInt64(5 * 1024 * 1024 * 1024), "5.00 GiB"),
  ])
  func transferUnits(count: UInt64, text: String) {
    #expect(WireGuardShowText.bytes(count) == text)
  }

  @Test func deviceAndPeers() {
    var activity = TunnelPeerActivity.none
    activity.bytesReceived = 564
    activity.bytesSent = 476
    let text = WireGuardShowText.render(
      .init(name: "flannel-wg", publicKey: "PUB", listenPort: 51820),
      peers: [
        WireGuardPeerStatus(
          publicKey: "PEER", endpoint: "192.168.77.12:51820", allowedIPs: "10.1.52.0/24",
          handshakeAge: .seconds(9), activity: activity, handshakes: 1,
          persistentKeepalive: .seconds(25)),
        WireGuardPeerStatus(
          publicKey: "QUIET", endpoint: "192.168.77.13:51820", allowedIPs: "10.1.53.0/24",
          handshakeAge: nil, activity: .none, handshakes: 0, persistentKeepalive: .zero),
      ])
    #expect(
      text == """
        interface: flannel-wg
          public key: PUB
          private key: (hidden)
          listening port: 51820

        peer: PEER
          endpoint: 192.168.77.12:51820
          allowed ips: 10.1.52.0/24
          latest handshake: 9 seconds ago
          transfer: 564 B received, 476 B sent
          persistent keepalive: every 25 seconds

        peer: QUIET
          endpoint: 192.168.77.13:51820
          allowed ips: 10.1.53.0/24

        """)
  }
}
