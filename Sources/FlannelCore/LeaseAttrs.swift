/// The value stored under a subnet key: who holds the subnet and how to reach it.
public struct LeaseAttrs: Sendable, Equatable {
  public var publicIP: IPv4Address
  /// "" when absent (the udp backend of v0.10 writes none).
  public var backendType: String
  /// nil when absent or JSON null.
  public var backendData: JSONValue?

  public init(publicIP: IPv4Address, backendType: String = "", backendData: JSONValue? = nil) {
    self.publicIP = publicIP
    self.backendType = backendType
    self.backendData = backendData
  }

  /// Which stock release's layout to write: v0.10 omits empty fields; HEAD adds
  /// `"PublicIPv6":null` after PublicIP.
  public enum Style: Sendable {
    case v010
    case head
  }

  /// Compact JSON in stock flannel's field order, so peers running stock flanneld read it
  /// and the bytes in etcd match theirs.
  public func json(style: Style) -> String {
    var members = [JSONMember("PublicIP", .string(publicIP.description))]
    if style == .head { members.append(JSONMember("PublicIPv6", .null)) }
    if !backendType.isEmpty { members.append(JSONMember("BackendType", .string(backendType))) }
    if let backendData { members.append(JSONMember("BackendData", backendData)) }
    return JSONValue.object(members).serialized()
  }

  /// Reads a lease value written by any flannel version. Field names match
  /// case-insensitively, unknown fields (PublicIPv6, BackendV6Data) are ignored. Unlike Go,
  /// which would silently read a missing PublicIP as 0.0.0.0, a lease we cannot route to is
  /// an error.
  public static func decode(_ text: String) throws(LeaseDecodeError) -> LeaseAttrs {
    let document: JSONValue
    do throws(JSONParseError) {
      document = try JSONValue.parse(text)
    } catch {
      throw LeaseDecodeError("lease is not valid JSON: \(error)")
    }
    guard case .object = document else {
      throw LeaseDecodeError("lease must be a JSON object, not \(document.kindName)")
    }
    guard let ipValue = document[caseInsensitive: "PublicIP"], !ipValue.isNull else {
      throw LeaseDecodeError("lease has no PublicIP: \(text)")
    }
    guard let ipText = ipValue.stringValue, let publicIP = IPv4Address(ipText) else {
      throw LeaseDecodeError("lease PublicIP is not an IPv4 address: \(ipValue.serialized())")
    }
    var backendType = ""
    if let typeValue = document[caseInsensitive: "BackendType"], !typeValue.isNull {
      guard let type = typeValue.stringValue else {
        throw LeaseDecodeError("lease BackendType is not a string: \(typeValue.serialized())")
      }
      backendType = type
    }
    var backendData = document[caseInsensitive: "BackendData"]
    if backendData == .null { backendData = nil }
    return LeaseAttrs(publicIP: publicIP, backendType: backendType, backendData: backendData)
  }
}

public struct LeaseDecodeError: Error, Equatable, CustomStringConvertible {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}
