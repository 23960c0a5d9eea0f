/// Parses `/proc/net/route` to find the interface of the IPv4 default route, the way stock
/// flanneld picks its external interface when no `-iface` is given (§1.3).
public enum ProcNetRoute {
  /// The interface of the first route whose destination and mask are 0.0.0.0.
  public static func defaultRouteInterface(in text: String) -> String? {
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count >= 8 else { continue }
      // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
      if fields[1] == "00000000" && fields[7] == "00000000" { return String(fields[0]) }
    }
    return nil
  }
}
