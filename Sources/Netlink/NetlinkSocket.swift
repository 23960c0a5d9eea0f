import CLibMnl
import Foundation
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// One NETLINK_ROUTE socket in the network namespace of the thread that created it. Every
/// operation is one request and its answer (an ACK, an error, or a dump), serialised by a
/// lock so that tasks may share the socket; the calls block for the few microseconds the
/// kernel needs, and a receive timeout bounds them if the kernel never answers.
public final class NetlinkSocket: @unchecked Sendable {
  // `socket`, `buffer` and `sequence` are only touched while `lock` is held (here and in
  // NetlinkBatch.swift).
  let socket: OpaquePointer
  private let portID: UInt32
  var sequence: UInt32
  let buffer: UnsafeMutableRawPointer
  let lock = NSLock()
  static let receiveBufferSize = 32768  // MNL_SOCKET_BUFFER_SIZE, a macro

  public init() throws(NetlinkError) {
    socket = try Self.open(groups: 0, receiveTimeout: 5)
    // A batch chunk's acknowledgements queue up before they are read (≈ 1 KiB of buffer
    // each): room for several chunks, so none is dropped (ENOBUFS) on a busy machine.
    var size: Int32 = 1 << 20
    let fd = mnl_socket_get_fd(socket)
    if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
      _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    portID = mnl_socket_get_portid(socket)
    sequence = UInt32(truncatingIfNeeded: time(nil))
    buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 8)
  }

  deinit {
    mnl_socket_close(socket)
    buffer.deallocate()
  }

  /// Opens and binds a route socket; `groups` are RTMGRP_* multicast groups.
  static func open(groups: UInt32, receiveTimeout seconds: Int, microseconds: Int = 0)
    throws(NetlinkError) -> OpaquePointer
  {
    guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
      throw NetlinkError(operation: "netlink socket", object: "", errno: errno)
    }
    var timeout = timeval(tv_sec: seconds, tv_usec: microseconds)
    _ = setsockopt(
      mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout,
      socklen_t(MemoryLayout<timeval>.size))
    guard mnl_socket_bind(socket, groups, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
      let code = errno
      mnl_socket_close(socket)
      throw NetlinkError(operation: "netlink bind", object: "", errno: code)
    }
    return socket
  }

  /// Sends `request` and collects the answer. Requests that are not dumps get NLM_F_ACK, so
  /// a kernel error always comes back as an NLMSG_ERROR that libmnl turns into errno.
  func execute(_ request: NetlinkRequest, operation: String, object: @autoclosure () -> String)
    throws(NetlinkError) -> [NetlinkMessage]
  {
    lock.lock()
    defer { lock.unlock() }
    discardUnreadAnswers()
    sequence &+= 1
    let header = request.header
    header.pointee.nlmsg_seq = sequence
    if !request.isDump { header.pointee.nlmsg_flags |= UInt16(NLM_F_ACK) }
    func fail(_ code: Int32) -> NetlinkError {
      NetlinkError(operation: operation, object: object(), errno: code)
    }
    guard mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len)) >= 0 else {
      throw fail(errno)
    }
    let collector = MessageCollector()
    let context = Unmanaged.passUnretained(collector).toOpaque()
    while true {
      let received = try retryingOnEINTR(operation, object: object()) {
        mnl_socket_recvfrom(socket, buffer, Self.receiveBufferSize)
      }
      let result = mnl_cb_run(
        buffer, received, sequence, portID, MessageCollector.callback, context)
      // libmnl sets errno from the NLMSG_ERROR payload; read it before anything else can.
      let code = errno
      if result == MNL_CB_ERROR { throw fail(code) }
      if result <= MNL_CB_STOP { break }
    }
    return collector.messages
  }
}

/// Receives the messages of one answer from mnl_cb_run through an opaque context pointer.
final class MessageCollector {
  var messages: [NetlinkMessage] = []

  static let callback: mnl_cb_t = { header, context in
    guard let header, let context else { return MNL_CB_ERROR }
    let collector = Unmanaged<MessageCollector>.fromOpaque(context).takeUnretainedValue()
    let raw = UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len))
    collector.messages.append(NetlinkMessage(bytes: Array(raw)))
    return MNL_CB_OK
  }
}
