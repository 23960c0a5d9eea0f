import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// SIGTERM and SIGINT as an async sequence. After the first one the default action is
/// restored, so a second signal kills the process at once (as stock flanneld does).
public enum TerminationSignals {
  public static func first() async -> Int32? {
    let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
    let queue = DispatchQueue(label: "flanneld.signals")
    var sources: [any DispatchSourceSignal] = []
    for number in [SIGTERM, SIGINT] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        continuation.yield(number)
      }
      source.resume()
      sources.append(source)
    }
    defer { sources.forEach { $0.cancel() } }
    for await number in stream { return number }
    return nil
  }
}
