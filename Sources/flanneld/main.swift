#if canImport(Glibc)
  @preconcurrency import Glibc
#endif
import Daemon
import Foundation

// Logs go to a pipe under systemd: line-buffer them, and never die of a closed pipe.
setvbuf(stdout, nil, _IOLBF, 0)
signal(SIGPIPE, SIG_IGN)

let status = await Flanneld.run(
  arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
