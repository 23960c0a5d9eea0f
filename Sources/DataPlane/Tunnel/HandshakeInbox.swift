import CSystemShims
import Synchronization
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// Where the forwarders hand what is not theirs to the WireGuard handshake thread: copies of
/// received handshake messages (types 1–3, at most 148 bytes) in a bounded queue, and wake-ups
/// (a peer wants a session, a responder session got its first message). One eventfd wakes the
/// handshake thread.
///
/// The queue is behind a mutex: it is taken per handshake message, never per data packet.
/// Under a flood of initiations the queue fills and the rest are dropped and counted by the
/// forwarder; the handshake thread sees the depth and answers with cookie replies.
public final class HandshakeInbox: Sendable {
  public static let capacity = 128
  /// The largest handshake message: an initiation.
  public static let messageSize = 148

  /// One message as handed over: its bytes and the sender (host order).
  public struct Message: Sendable {
    public var bytes: [UInt8]
    public var sourceAddress: UInt32
    public var sourcePort: UInt16
  }

  /// Which slots hold messages; the slots themselves are below, written only under the lock.
  private struct Queue {
    var head = 0
    var count = 0
  }

  private let queue = Mutex(Queue())
  // Written and read only while `queue` is locked.
  private nonisolated(unsafe) let storage: UnsafeMutablePointer<UInt8>
  private nonisolated(unsafe) let lengths: UnsafeMutablePointer<Int>
  private nonisolated(unsafe) let sources: UnsafeMutablePointer<UInt64>
  private let event: OwnedDescriptor
  /// The descriptor to poll for POLLIN: readable when the handshake thread has work.
  public var eventDescriptor: Int32 { event.rawValue }

  public init() throws(DataPlaneError) {
    storage = .allocate(capacity: Self.capacity * Self.messageSize)
    lengths = .allocate(capacity: Self.capacity)
    sources = .allocate(capacity: Self.capacity)
    event = OwnedDescriptor(
      try retryingOnEINTR("eventfd for the handshake thread") { flannel_eventfd(0, 1) })
  }

  deinit {
    storage.deallocate()
    lengths.deallocate()
    sources.deallocate()
  }

  /// Forwarder: queues a copy of a handshake message; false when the queue is full (the
  /// caller counts the drop). Wakes the handshake thread when the queue was empty.
  func push(_ bytes: UnsafeRawPointer, length: Int, sourceAddress: UInt32, sourcePort: UInt16)
    -> Bool
  {
    guard length > 0, length <= Self.messageSize else { return false }
    // The address as a number: a raw pointer may not cross into the lock's closure.
    let from = UInt(bitPattern: bytes)
    let (accepted, wasEmpty) = queue.withLock { q -> (Bool, Bool) in
      guard q.count < Self.capacity else { return (false, false) }
      let slot = (q.head &+ q.count) % Self.capacity
      (storage + slot &* Self.messageSize).update(
        from: UnsafePointer(bitPattern: from)!, count: length)
      lengths[slot] = length
      sources[slot] = UInt64(sourceAddress) << 16 | UInt64(sourcePort)
      q.count &+= 1
      return (true, q.count == 1)
    }
    if wasEmpty { signal() }
    return accepted
  }

  /// Any thread: wakes the handshake thread.
  public func signal() {
    var one: UInt64 = 1
    _ = write(event.rawValue, &one, 8)
  }

  /// Handshake thread: the messages queued so far, oldest first, and the depth the queue
  /// had (the "under load" signal).
  public func drain() -> [Message] {
    var drained: UInt64 = 0
    _ = read(event.rawValue, &drained, 8)
    return queue.withLock { q in
      var messages: [Message] = []
      messages.reserveCapacity(q.count)
      while q.count > 0 {
        let slot = q.head
        let start = storage + slot &* Self.messageSize
        messages.append(
          Message(
            bytes: Array(UnsafeBufferPointer(start: start, count: lengths[slot])),
            sourceAddress: UInt32(truncatingIfNeeded: sources[slot] >> 16),
            sourcePort: UInt16(truncatingIfNeeded: sources[slot])))
        q.head = (q.head &+ 1) % Self.capacity
        q.count &-= 1
      }
      return messages
    }
  }

  /// Handshake thread: waits until a forwarder signals or `milliseconds` pass (-1: no limit).
  public func wait(milliseconds: Int32) {
    var descriptor = pollfd(fd: event.rawValue, events: Int16(POLLIN), revents: 0)
    _ = poll(&descriptor, 1, milliseconds)
  }
}
