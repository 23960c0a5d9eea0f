/// The value stored under a subnet key: who holds the subnet and how to reach it.
public struct LeaseAttrs: Sendable, Equatable {
  /// 0.0.0.0 on an IPv6-only node (stock writes it so).
  public var publicIP: IPv4Address
  /// "" when absent (the udp backend of v0.10 writes none).
  public var backendType: String
  /// nil when absent or JSON null.
  public var backendData: JSONValue?
  /// PublicIPv6 and BackendV6Data, out of line: most leases have neither.
  private var ipv6: RarelySet<IPv6Attrs>

  private struct IPv6Attrs: Sendable, Equatable {
    var publicIPv6: IPv6Address?
    var backendV6Data: JSONValue?
  }

  /// The node's IPv6 address for dual-stack and IPv6-only networks; nil when absent or null.
  public var publicIPv6: IPv6Address? {
    get { ipv6.value?.publicIPv6 }
    set { setIPv6(publicIPv6: newValue, backendV6Data: backendV6Data) }
  }

  /// The backend's IPv6 data (e.g. the IPv6 VTEP MAC or WireGuard port); nil when absent
  /// or JSON null.
  public var backendV6Data: JSONValue? {
    get { ipv6.value?.backendV6Data }
    set { setIPv6(publicIPv6: publicIPv6, backendV6Data: newValue) }
  }

  private mutating func setIPv6(publicIPv6: IPv6Address?, backendV6Data: JSONValue?) {
    ipv6 = RarelySet(
      publicIPv6 == nil && backendV6Data == nil
        ? nil : IPv6Attrs(publicIPv6: publicIPv6, backendV6Data: backendV6Data))
  }

  public init(
    publicIP: IPv4Address, backendType: String = "", backendData: JSONValue? = nil,
    publicIPv6: IPv6Address? = nil, backendV6Data: JSONValue? = nil
  ) {
    self.publicIP = publicIP
    self.backendType = backendType
    self.backendData = backendData
    self.ipv6 = RarelySet(nil)
    setIPv6(publicIPv6: publicIPv6, backendV6Data: backendV6Data)
  }

  /// Which stock release's layout to write: v0.10 omits empty fields; HEAD always writes
  /// PublicIPv6 after PublicIP (`null` when unset).
  public enum Style: Sendable {
    case v010
    case head
  }

  /// Compact JSON in stock flannel's field order (HEAD's LeaseAttrs: PublicIP, PublicIPv6,
  /// BackendType, BackendData, BackendV6Data, the last three omitted when empty), so peers
  /// running stock flanneld read it and the bytes in etcd match theirs. v0.10 knows no IPv6
  /// fields; in that style they are written only when set.
  public func json(style: Style) -> String {
    var members = [JSONMember("PublicIP", .string(publicIP.description))]
    if let publicIPv6 {
      members.append(JSONMember("PublicIPv6", .string(publicIPv6.description)))
    } else if style == .head {
      members.append(JSONMember("PublicIPv6", .null))
    }
    if !backendType.isEmpty { members.append(JSONMember("BackendType", .string(backendType))) }
    if let backendData { members.append(JSONMember("BackendData", backendData)) }
    if let backendV6Data { members.append(JSONMember("BackendV6Data", backendV6Data)) }
    return JSONValue.object(members).serialized()
  }

  /// Reads a lease value written by any flannel version. Field names match
  /// case-insensitively, unknown fields are ignored. Unlike Go, which would silently read a
  /// missing PublicIP as 0.0.0.0, a lease without one is an error (every stock version
  /// writes it; an IPv6-only node writes "0.0.0.0"), so no lease is routed via 0.0.0.0 by
  /// accident. PublicIPv6 is read as Go's ParseIP reads it (a dotted quad becomes
  /// `::ffff:a.b.c.d`).
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
    var publicIPv6: IPv6Address?
    if let ipv6Value = document[caseInsensitive: "PublicIPv6"], !ipv6Value.isNull {
      guard let ipv6 = ipv6Value.stringValue.flatMap({ IPv6Address($0) }) else {
        throw LeaseDecodeError(
          "lease PublicIPv6 is not an IPv6 address: \(ipv6Value.serialized())")
      }
      publicIPv6 = ipv6
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
    var backendV6Data = document[caseInsensitive: "BackendV6Data"]
    if backendV6Data == .null { backendV6Data = nil }
    return LeaseAttrs(
      publicIP: publicIP, backendType: backendType, backendData: backendData,
      publicIPv6: publicIPv6, backendV6Data: backendV6Data)
  }
}

public struct LeaseDecodeError: Error, Equatable, CustomStringConvertible {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}
