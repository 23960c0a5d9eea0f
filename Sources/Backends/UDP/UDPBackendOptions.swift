import DataPlane

extension UDPBackend {
  /// The udp backend's command-line switches (`-udp-accept-any-source`, `-udp-offloads`,
  /// `-udp-workers`, `-udp-poll-usecs`, all ours), parsed once when the daemon reads its flags
  /// and handed to the backend through `BackendContext.udp`. The defaults are the flags'
  /// defaults.
  public struct Options: Sendable, Equatable {
    /// The offload set's type, named here so that the daemon needs no DataPlane import.
    public typealias Offloads = TunOffloads

    /// Take datagrams from anybody, as stock does (ours: only from known nodes).
    public var acceptAnySource: Bool
    /// TUN and socket offloads to ask for; each falls back on its own when the kernel
    /// refuses it.
    public var offloads: Offloads
    /// Forwarders (TUN queues, threads); 0 = automatic (`UDPWorkerCount`).
    public var workers: Int
    /// Longest poll before a forwarder sleeps (µs); 0 = none.
    public var pollMicroseconds: Int

    /// `-udp-poll-usecs`'s default: long enough to catch the answer of a peer one forwarder hop
    /// away on each side (a ping through both daemons takes 0.15–0.2 ms on the bench lab), short
    /// enough that a poll that misses costs little
    /// (docs/performance/2026-12-06-latency-before-after.txt).
    public static let defaultPollMicroseconds = 200

    /// The largest `-udp-poll-usecs`: a window past a few wake-ups' worth buys nothing.
    public static let maximumPollMicroseconds = 1_000

    public init(
      acceptAnySource: Bool = false, offloads: Offloads = .all, workers: Int = 0,
      pollMicroseconds: Int = defaultPollMicroseconds
    ) {
      self.acceptAnySource = acceptAnySource
      self.offloads = offloads
      self.workers = workers
      self.pollMicroseconds = pollMicroseconds
    }

    /// Parses the flags' values (command line or FLANNELD_* environment); refuses an unknown
    /// offload word or a worker count out of range, naming the flag and the values that work.
    public static func parse(
      acceptAnySource: Bool = false, offloads text: String = "all", workers: Int = 0,
      pollMicroseconds: Int = defaultPollMicroseconds
    ) throws(OptionError) -> Options {
      guard let offloads = Offloads(list: text) else {
        throw OptionError(
          flag: "udp-offloads",
          message: "invalid value \"\(text)\" for -udp-offloads: use a comma-separated list of "
            + Offloads.words)
      }
      guard (0...UDPWorkerCount.maximum).contains(workers) else {
        throw OptionError(
          flag: "udp-workers",
          message: "invalid value \(workers) for -udp-workers: use 1 to "
            + "\(UDPWorkerCount.maximum) forwarding threads, or 0 for one per two online CPUs "
            + "(at most \(UDPWorkerCount.automaticLimit))")
      }
      guard (0...maximumPollMicroseconds).contains(pollMicroseconds) else {
        throw OptionError(
          flag: "udp-poll-usecs",
          message: "invalid value \(pollMicroseconds) for -udp-poll-usecs: use 0 (sleep as soon "
            + "as there is nothing to do) to \(maximumPollMicroseconds) microseconds")
      }
      return Options(
        acceptAnySource: acceptAnySource, offloads: offloads, workers: workers,
        pollMicroseconds: pollMicroseconds)
    }
  }

  /// A refused udp backend option: the flag's name (without the dash) and the whole message.
  public struct OptionError: Error, Equatable, CustomStringConvertible {
    public let flag: String
    public let message: String

    public init(flag: String, message: String) {
      self.flag = flag
      self.message = message
    }

    public var description: String { message }
  }
}
