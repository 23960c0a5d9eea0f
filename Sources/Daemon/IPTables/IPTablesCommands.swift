import Foundation

/// Runs the iptables binaries, as stock flanneld does (no libiptc, no netlink): `iptables
/// --version`, `iptables-save -t TABLE` and `iptables-restore --noflush`.
public struct IPTablesCommands: Sendable {
  public var iptables: String
  public var save: String
  public var restore: String
  /// Where to look for bare names.
  public var searchPath: String

  public init(
    iptables: String = "iptables", save: String = "iptables-save",
    restore: String = "iptables-restore",
    searchPath: String = ProcessInfo.processInfo.environment["PATH"]
      ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  ) {
    self.iptables = iptables
    self.save = save
    self.restore = restore
    self.searchPath = searchPath
  }

  /// ip6tables, ip6tables-save, ip6tables-restore: the IPv6 rules of a dual-stack network.
  public static var ipv6: IPTablesCommands {
    IPTablesCommands(
      iptables: "ip6tables", save: "ip6tables-save", restore: "ip6tables-restore")
  }

  public func version() throws(IPTablesError) -> IPTablesVersion? {
    IPTablesVersion(parsing: try run(iptables, ["--version"]))
  }

  public func save(table: String) throws(IPTablesError) -> IPTablesSave {
    IPTablesSave(parsing: try run(save, ["-t", table]), table: table)
  }

  /// One transaction; `-w 5` waits up to 5 s for the xtables lock (legacy backend).
  public func restore(_ payload: String) throws(IPTablesError) {
    _ = try run(restore, ["--noflush", "-w", "5"], input: payload)
  }

  func locate(_ name: String) throws(IPTablesError) -> String {
    if name.contains("/") { return name }
    for directory in searchPath.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw .binaryNotFound(name: name, path: searchPath)
  }

  func run(_ name: String, _ arguments: [String], input: String? = nil) throws(IPTablesError)
    -> String
  {
    let path = try locate(name)
    let command = ([name] + arguments).joined(separator: " ")
    let output: ChildCommandOutput
    do {
      output = try ChildCommand.run(
        path: path, arguments: arguments, input: Array((input ?? "").utf8))
    } catch {
      throw .commandFailed(
        command: command, status: -1,
        stderr: "cannot start \(path): \(String(cString: strerror(error.errno)))")
    }
    guard output.status == 0 else {
      throw .commandFailed(
        command: command, status: output.status,
        stderr: String(decoding: output.stderr, as: UTF8.self))
    }
    return String(decoding: output.stdout, as: UTF8.self)
  }
}
