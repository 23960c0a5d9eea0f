/// What `wg show` prints for a device, for `/debug/wireguard` (wireguard-tools' layout:
/// interface block, then one block per peer; units as `wg` chooses them).
enum WireGuardShowText {
  struct Interface {
    var name: String
    var publicKey: String
    var listenPort: Int
  }

  static func render(_ interface: Interface, peers: [WireGuardPeerStatus]) -> String {
    var lines = [
      "interface: \(interface.name)",
      "  public key: \(interface.publicKey)",
      "  private key: (hidden)",
      "  listening port: \(interface.listenPort)",
    ]
    for peer in peers {
      lines.append("")
      lines.append("peer: \(peer.publicKey)")
      lines.append("  endpoint: \(peer.endpoint)")
      lines.append("  allowed ips: \(peer.allowedIPs)")
      if let age = peer.handshakeAge {
        lines.append("  latest handshake: \(ago(age))")
      }
      if peer.activity.bytesReceived > 0 || peer.activity.bytesSent > 0 {
        lines.append(
          "  transfer: \(bytes(peer.activity.bytesReceived)) received, "
            + "\(bytes(peer.activity.bytesSent)) sent")
      }
      let keepalive = Int(peer.persistentKeepalive.components.seconds)
      if keepalive > 0 { lines.append("  persistent keepalive: every \(seconds(keepalive))") }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// "1 minute, 5 seconds ago", "Now" below a second, as `wg` words it.
  static func ago(_ age: Duration) -> String {
    let total = Int(age.components.seconds)
    guard total > 0 else { return "Now" }
    return seconds(total) + " ago"
  }

  /// "2 days, 1 hour, 5 seconds": the non-zero units, largest first.
  static func seconds(_ total: Int) -> String {
    let units: [(String, Int)] = [
      ("year", 365 * 86400), ("day", 86400), ("hour", 3600),
      ("minute", 60), ("second", 1),
    ]
    var rest = total
    var parts: [String] = []
    for (name, size) in units where rest >= size {
      let count = rest / size
      rest %= size
      parts.append("\(count) \(name)\(count == 1 ? "" : "s")")
    }
    return parts.joined(separator: ", ")
  }

  /// "564 B", "203.81 MiB": binary units with two decimals above a KiB.
  static func bytes(_ count: UInt64) -> String {
    guard count >= 1024 else { return "\(count) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var value = Double(count) / 1024
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
  }
}
