#if canImport(Glibc)
  import Glibc
#endif

/// How many forwarders (TUN queues, threads, rings) the udp backend runs: `-udp-workers`.
public enum UDPWorkerCount {
  /// `-udp-workers=0` picks one worker per two online CPUs, but no more than this: past a few
  /// queues the TUN and the underlay, not the forwarders, are the bottleneck (perf-notes §3).
  public static let automaticLimit = 4
  /// Online CPUs per automatic worker: every packet a forwarder moves costs the kernel about as
  /// much again on other CPUs (TUN and socket copies, softirq, the applications' own network
  /// stack). On a 2-vCPU host one worker measured steadier and no slower than two
  /// (docs/performance/2026-12-06-latency-before-after.txt).
  public static let cpusPerWorker = 2
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
      min(max(cpus / cpusPerWorker, 1), automaticLimit),
      "automatic: \(cpus) online CPU\(cpus == 1 ? "" : "s"), one worker per \(cpusPerWorker), "
        + "at most \(automaticLimit)"
    )
  }

  /// sysconf(_SC_NPROCESSORS_ONLN); 1 when unknown.
  public static func onlineCPUs() -> Int {
    max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1)
  }
}
