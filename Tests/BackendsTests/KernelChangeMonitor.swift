import Foundation
import TestSupport

/// Records every link, address, route, neighbour and nexthop change in a namespace (`ip monitor`),
/// framed by two canary changes so that nothing before or after is missed or counted.
final class KernelChangeMonitor {
  private let ns: ScratchNamespace
  private let process: LineProcess
  private static let canary = "192.168.254.254"

  init(_ ns: ScratchNamespace) throws {
    self.ns = ns
    process = try LineProcess(
      "/usr/sbin/ip",
      [
        "netns", "exec", ns.name, "/usr/sbin/ip", "monitor", "link", "address", "route", "neigh",
        "nexthop",
      ],
      input: "")
    // The monitor is subscribed once it reports our first canary.
    try ns.ip("link", "set", "lo", "up")
    try ns.ip("addr", "add", "\(Self.canary)/32", "dev", "lo")
    _ = try process.line { $0.contains(Self.canary) }
  }

  /// The changes since init, without the canaries' own lines.
  func changes() throws -> [String] {
    try ns.ip("addr", "del", "\(Self.canary)/32", "dev", "lo")
    var lines: [String] = []
    while let line = try process.nextLine() {
      if line.contains("Deleted") && line.contains(Self.canary) { break }
      // Indented lines continue the line before (lifetimes of an address).
      if !line.contains(Self.canary) && !line.hasPrefix(" ") { lines.append(line) }
    }
    process.terminate()
    return lines
  }
}
