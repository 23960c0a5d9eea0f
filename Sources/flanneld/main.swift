import Daemon
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

// Logs are written to stderr with one write(2) per line (no stdio buffering to tune); a
// closed pipe under systemd must not kill the daemon.
signal(SIGPIPE, SIG_IGN)

let status = await Flanneld.run(
  arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
