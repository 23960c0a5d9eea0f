import CLibMnl
import Foundation
import Synchronization
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// What the link monitor reports.
public enum LinkMonitorEvent: Sendable, Equatable {
  /// A link was deleted (RTM_DELLINK).
  case deleted(index: Int, name: String)
  /// The kernel dropped notifications (ENOBUFS): the receiver must re-check what it cares
  /// about, a deletion may have been lost.
  case overrun
}

/// Subscribes to RTMGRP_LINK on its own socket and reports link deletions from its own
/// thread (a blocking receive loop does not belong on the concurrency pool). The socket
/// lives in the network namespace of the thread that creates the monitor.
public final class LinkDeletionMonitor: Sendable {
  private let stopped = StopFlag()

  /// Starts the thread; `handler` runs on it for every event.
  public init(_ handler: @escaping @Sendable (LinkMonitorEvent) -> Void) throws(NetlinkError) {
    // Short receive timeout so that `stop()` is noticed within 200 ms.
    let socket = SendableSocket(
      try NetlinkSocket.open(groups: UInt32(RTMGRP_LINK), receiveTimeout: 0, microseconds: 200_000))
    let stopped = self.stopped
    let thread = Thread { Self.run(socket.pointer, stopped: stopped, handler: handler) }
    thread.name = "netlink-link-monitor"
    thread.start()
  }

  /// The same events as an AsyncStream; the monitor stops when the stream is dropped.
  public static func stream() throws(NetlinkError) -> AsyncStream<LinkMonitorEvent> {
    let (stream, continuation) = AsyncStream<LinkMonitorEvent>.makeStream()
    let monitor = try LinkDeletionMonitor { continuation.yield($0) }
    continuation.onTermination = { _ in monitor.stop() }
    return stream
  }

  /// Ends the thread (within the receive timeout); the socket closes when it has.
  public func stop() { stopped.value.store(true, ordering: .releasing) }

  deinit { stop() }

  private static func run(
    _ socket: OpaquePointer, stopped: StopFlag,
    handler: @Sendable (LinkMonitorEvent) -> Void
  ) {
    defer { mnl_socket_close(socket) }
    let size = NetlinkSocket.receiveBufferSize
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
    defer { buffer.deallocate() }
    while !stopped.value.load(ordering: .acquiring) {
      let received: Int
      do throws(SystemCallError) {
        received = try retryingOnEINTR("netlink receive") {
          mnl_socket_recvfrom(socket, buffer, size)
        }
      } catch {
        if error.errno == ENOBUFS { handler(.overrun) }
        continue  // the receive timeout (EAGAIN): look at the stop flag again
      }
      let collector = MessageCollector()
      // seq and portid 0: notifications are not answers to our requests.
      _ = mnl_cb_run(
        buffer, received, 0, 0, MessageCollector.callback,
        Unmanaged.passUnretained(collector).toOpaque())
      for message in collector.messages where message.type == UInt16(RTM_DELLINK) {
        let info = message.header(ifinfomsg.self)
        let name = message.attributes(after: ifinfomsg.self).string(UInt16(IFLA_IFNAME)) ?? ""
        handler(.deleted(index: Int(info.ifi_index), name: name))
      }
    }
  }
}

/// The monitor's socket handed to its thread; only that thread uses it after init.
struct SendableSocket: @unchecked Sendable {
  let pointer: OpaquePointer
  init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

final class StopFlag: Sendable {
  let value = Atomic<Bool>(false)
}
