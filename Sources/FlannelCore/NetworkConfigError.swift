/// Why a network config was rejected: the field at fault, stock flannel's message (so logs
/// and docs match), and a concrete fix for the operator.
public struct NetworkConfigError: Error, Equatable, CustomStringConvertible {
  /// "Network", "SubnetLen", "SubnetMin", "SubnetMax", "Backend"; nil when the document
  /// itself is not a JSON object.
  public let field: String?
  public let message: String
  public let fix: String

  public init(field: String?, message: String, fix: String) {
    self.field = field
    self.message = message
    self.fix = fix
  }

  /// "<field>: <message>. Fix: <fix>"; without the field prefix for document-level errors.
  public var description: String {
    let prefix = field.map { "\($0): " } ?? ""
    return "\(prefix)\(message). Fix: \(fix)"
  }
}
