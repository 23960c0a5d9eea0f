/// One /metrics family a backend reports, with its samples at the time of the call: the
/// daemon declares the family on first sight and sets the samples (`Backend.metrics()`).
public struct BackendMetric: Sendable, Equatable {
  public enum Kind: Sendable { case counter, gauge }

  public struct Sample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double

    public init(labels: [String: String] = [:], value: Double) {
      self.labels = labels
      self.value = value
    }
  }

  /// Prometheus name (counters end in `_total`).
  public var name: String
  public var help: String
  public var kind: Kind
  public var samples: [Sample]

  public init(name: String, help: String, kind: Kind, samples: [Sample] = []) {
    self.name = name
    self.help = help
    self.kind = kind
    self.samples = samples
  }
}
