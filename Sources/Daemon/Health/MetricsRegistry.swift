import Synchronization

/// Named counters and gauges with labels, rendered in the Prometheus text exposition format
/// (version 0.0.4). Thread-safe: the daemon sets values from any task, the HTTP thread
/// renders them.
///
///     let registry = MetricsRegistry()
///     let renewals = registry.counter("flannel_lease_renewals_total", help: "Lease renewals.")
///     renewals.set(3)
///     registry.gauge("flannel_udp_drops_total", ...).set(1, labels: ["reason": "no_route"])
public final class MetricsRegistry: Sendable {
  public enum Kind: String, Sendable { case counter, gauge }

  /// One metric name; each distinct label set is one sample.
  public struct Family: Sendable {
    public let name: String
    let registry: MetricsRegistry

    public func set(_ value: Double, labels: [String: String] = [:]) {
      registry.update(name, labels) { _ in value }
    }

    public func add(_ delta: Double = 1, labels: [String: String] = [:]) {
      registry.update(name, labels) { $0 + delta }
    }

    /// Drops every sample (e.g. the old lease subnet's info gauge).
    public func reset() {
      registry.state.withLock { $0.families[name]?.samples = [:] }
    }

    public func value(labels: [String: String] = [:]) -> Double? {
      registry.state.withLock { $0.families[name]?.samples[LabelSet(labels)] }
    }
  }

  struct LabelSet: Hashable, Comparable {
    var pairs: [(String, String)]
    init(_ labels: [String: String]) { pairs = labels.sorted { $0.key < $1.key } }
    static func == (a: LabelSet, b: LabelSet) -> Bool { a.pairs.elementsEqual(b.pairs, by: ==) }
    func hash(into hasher: inout Hasher) {
      for (k, v) in pairs {
        hasher.combine(k)
        hasher.combine(v)
      }
    }
    static func < (a: LabelSet, b: LabelSet) -> Bool {
      a.pairs.lexicographicallyPrecedes(b.pairs, by: <)
    }
  }

  struct Stored {
    var kind: Kind
    var help: String
    var samples: [LabelSet: Double] = [:]
  }

  struct State {
    var order: [String] = []
    var families: [String: Stored] = [:]
    var collectors: [@Sendable () -> Void] = []
  }

  let state = Mutex(State())

  public init() {}

  /// Declares (or returns the existing) counter. Counter names should end in `_total`.
  @discardableResult
  public func counter(_ name: String, help: String) -> Family {
    declare(name, kind: .counter, help: help)
  }

  @discardableResult
  public func gauge(_ name: String, help: String) -> Family {
    declare(name, kind: .gauge, help: help)
  }

  /// Runs before every render, on the HTTP thread: for values best pulled at scrape time
  /// (must be quick and must not block on the Swift concurrency pool).
  public func onScrape(_ collect: @escaping @Sendable () -> Void) {
    state.withLock { $0.collectors.append(collect) }
  }

  /// The exposition text: families in declaration order, samples sorted by labels.
  public func render() -> String {
    let collectors = state.withLock { $0.collectors }
    for collect in collectors { collect() }
    return state.withLock { state in
      var out = ""
      for name in state.order {
        guard let family = state.families[name] else { continue }
        out += "# HELP \(name) \(Self.escapeHelp(family.help))\n"
        out += "# TYPE \(name) \(family.kind.rawValue)\n"
        for (labels, value) in family.samples.sorted(by: { $0.key < $1.key }) {
          out += name + Self.renderLabels(labels) + " " + Self.renderValue(value) + "\n"
        }
      }
      return out
    }
  }

  func declare(_ name: String, kind: Kind, help: String) -> Family {
    precondition(Self.isValidName(name), "invalid metric name \(name)")
    state.withLock { state in
      if state.families[name] == nil {
        state.order.append(name)
        state.families[name] = Stored(kind: kind, help: help)
      }
    }
    return Family(name: name, registry: self)
  }

  func update(_ name: String, _ labels: [String: String], _ change: (Double) -> Double) {
    state.withLock { state in
      guard state.families[name] != nil else { return }
      let key = LabelSet(labels)
      state.families[name]!.samples[key] = change(state.families[name]!.samples[key] ?? 0)
    }
  }

  static func isValidName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else {
      return false
    }
    return name.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || $0 == "_" || $0 == ":"
    }
  }

  static func renderLabels(_ labels: LabelSet) -> String {
    guard !labels.pairs.isEmpty else { return "" }
    let inner = labels.pairs.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
    return "{\(inner)}"
  }

  static func renderValue(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }

  static func escapeHelp(_ text: String) -> String {
    text.replacingAll("\\", "\\\\").replacingAll("\n", "\\n")
  }

  static func escapeLabel(_ text: String) -> String {
    text.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"").replacingAll("\n", "\\n")
  }
}

extension String {
  fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
    var out = ""
    for character in self {
      if character == target { out += replacement } else { out.append(character) }
    }
    return out
  }
}
