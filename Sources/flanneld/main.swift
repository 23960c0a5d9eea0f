import CSystemShims
import Daemon
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

// Logs are written to stderr with one write(2) per line (no stdio buffering to tune); a
// closed pipe under systemd must not kill the daemon.
signal(SIGPIPE, SIG_IGN)
// A control-plane daemon with a handful of threads needs no malloc arena per thread: one
// arena keeps the resident heap ~25 % smaller with thousands of leases (Scripts/lease-scale.sh).
_ = flannel_set_malloc_arena_max(1)

let status = await Flanneld.run(
  arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
