/// Small value checks for flanneld options that must not depend on FlannelCore.
enum OptionChecks {
  /// A dotted-quad IPv4 address as Go's `net.ParseIP` accepts it for IPv4: four decimal
  /// parts 0…255, no leading zeros (Go ≥1.17 refuses them), nothing else.
  static func isIPv4DottedQuad(_ text: String) -> Bool {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return false }
    for part in parts {
      guard (1...3).contains(part.utf8.count),
        part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
        part == "0" || !part.hasPrefix("0"),
        let value = Int(part), value <= 255
      else { return false }
    }
    return true
  }

  /// Splits `-etcd-endpoints` on commas like stock (`strings.Split`) and checks each has a
  /// scheme the etcd client understands; the error names the endpoint and the fix.
  static func endpoints(_ text: String) -> Result<[String], OptionsError> {
    let endpoints = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    for endpoint in endpoints
    where !endpoint.hasPrefix("http://") && !endpoint.hasPrefix("https://") {
      let shown = endpoint.isEmpty ? "\"\" (empty item)" : GoText.quote(endpoint)
      return .failure(
        .invalid(
          flag: "etcd-endpoints",
          message: "invalid etcd endpoint \(shown) in -etcd-endpoints: each comma-separated "
            + "endpoint must start with http:// or https://, e.g. "
            + "-etcd-endpoints=http://127.0.0.1:2379"))
    }
    return .success(endpoints)
  }
}
