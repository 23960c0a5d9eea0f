/// One kernel change (add, replace or delete a route, neighbour or FDB entry), built once and
/// sent alone (`NetlinkSocket.apply(_:)`) or with thousands of others in a `NetlinkBatch`.
public struct NetlinkChange {
  let request: NetlinkRequest
  /// `route replace`, `fdb delete`, … for error texts.
  let operation: String
  /// Names the object in an error text; evaluated only when the kernel refuses the change.
  let object: () -> String

  init(_ request: NetlinkRequest, operation: String, object: @escaping () -> String) {
    self.request = request
    self.operation = operation
    self.object = object
  }

  func error(_ code: Int32) -> NetlinkError {
    NetlinkError(operation: operation, object: object(), errno: code)
  }
}

extension NetlinkSocket {
  /// Sends one change and waits for the kernel's answer.
  public func apply(_ change: NetlinkChange) throws(NetlinkError) {
    _ = try execute(change.request, operation: change.operation, object: change.object())
  }
}
