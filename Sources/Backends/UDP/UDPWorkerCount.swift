#if canImport(Glibc)
  import Glibc
#endif

/// How many forwarders (TUN queues, threads, rings) the udp backend runs: `-udp-workers`.
public enum UDPWorkerCount {
  /// `-udp-workers=0` picks the online CPUs, but no more than this: past a few queues the
  /// TUN and the underlay, not the forwarders, are the bottleneck (perf-notes §3).
  public static let automaticLimit = 4
  /// The largest value `-udp-workers` accepts.
  public static let maximum = 64

  /// The worker count for `requested` (0 = automatic) on a machine with `onlineCPUs`, and the
  /// reason for the start-up log line.
  public static func resolve(requested: Int, onlineCPUs: Int = Self.onlineCPUs()) -> (
    count: Int, reason: String
  ) {
    if requested > 0 { return (min(requested, maximum), "-udp-workers=\(requested)") }
    let cpus = max(onlineCPUs, 1)
    return (
      min(cpus, automaticLimit),
      "automatic: \(cpus) online CPU\(cpus == 1 ? "" : "s"), at most \(automaticLimit)"
    )
  }

  /// sysconf(_SC_NPROCESSORS_ONLN); 1 when unknown.
  public static func onlineCPUs() -> Int {
    max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1)
  }
}
