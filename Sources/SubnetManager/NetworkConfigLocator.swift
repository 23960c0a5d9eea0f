import Etcd
import FlannelCore
import Foundation

/// Which etcd API to use: `-etcd-api=auto|v3|v2`.
public enum EtcdAPIChoice: String, Sendable, CaseIterable {
  case auto, v3, v2
}

/// Finds `<prefix>/config` and with it the API the cluster speaks.
///
/// Stock flanneld reads one API only and answers "Key not found" when the operator wrote the
/// config through the other one — the most common flannel complaint. In auto mode we look
/// through v3, then v2, and keep using the API where the config was found for the leases
/// too, so a node joins a cluster of stock flanneld of either generation.
public struct NetworkConfigLocator: Sendable {
  public let choice: EtcdAPIChoice
  public let prefix: String
  public let endpoints: [String]
  let v3: EtcdV3LeaseRegistry?
  let v2: EtcdV2LeaseRegistry?

  public init(choice: EtcdAPIChoice, prefix: String, config: EtcdClientConfig) throws {
    self.choice = choice
    self.prefix = LeaseKeys(prefix: prefix).prefix
    self.endpoints = config.endpoints
    v3 =
      choice == .v2
      ? nil : EtcdV3LeaseRegistry(client: try EtcdV3Client(config: config), prefix: prefix)
    v2 =
      choice == .v3
      ? nil : EtcdV2LeaseRegistry(client: try EtcdV2Client(config: config), prefix: prefix)
  }

  public struct Found: Sendable {
    public let registry: any LeaseRegistry
    public let text: String
  }

  /// One look. Throws `NetworkConfigNotFound` (with the commands that would fix it) when the
  /// key is in neither place, and etcd errors as they come.
  public func locate() async throws -> Found {
    var v2Note: String? = nil
    if let v3, let text = try await v3.networkConfig() {
      return Found(registry: v3, text: text)
    }
    if let v2 {
      do {
        if let text = try await v2.networkConfig() { return Found(registry: v2, text: text) }
      } catch EtcdError.http(_, let status, _) where status == 404 && choice == .auto {
        // etcd without --enable-v2 answers 404 for /v2/keys: nothing to find there.
        v2Note = "the v2 API is not enabled on this etcd"
      }
    }
    throw NetworkConfigNotFound(
      prefix: prefix, endpoint: endpoints.first ?? "http://127.0.0.1:2379", choice: choice,
      v2Note: v2Note)
  }
}

/// The config key is missing: say where we looked and how to write it.
public struct NetworkConfigNotFound: Error, Sendable, CustomStringConvertible {
  public let prefix: String
  public let endpoint: String
  public let choice: EtcdAPIChoice
  public let v2Note: String?

  public var description: String {
    let key = prefix + "/config"
    let example = #"{"Network":"10.1.0.0/16","Backend":{"Type":"vxlan"}}"#
    var places: [String] = []
    if choice != .v2 { places.append("through the etcd v3 API") }
    if choice != .v3 {
      places.append("through the etcd v2 keys API" + (v2Note.map { " (\($0))" } ?? ""))
    }
    var text =
      "flannel network config not found: looked for \(key) \(places.joined(separator: " and ")) at \(endpoint). Write it with"
    var commands: [String] = []
    if choice != .v2 {
      commands.append("ETCDCTL_API=3 etcdctl --endpoints=\(endpoint) put \(key) '\(example)'")
    }
    if choice != .v3 {
      commands.append("curl -X PUT \(endpoint)/v2/keys\(key) -d value='\(example)'")
    }
    text += commands.count > 1 ? " one of:" : ":"
    for command in commands { text += "\n    " + command }
    return text
  }
}
