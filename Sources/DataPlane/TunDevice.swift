import CSystemShims
import SystemCalls

#if canImport(Glibc)
  import Glibc
#endif

/// A non-persistent layer-3 TUN device (`IFF_TUN | IFF_NO_PI`: raw IPv4 packets, no packet-info
/// header), opened non-blocking so io_uring reads poll instead of parking `iou-wrk` threads.
/// Closing the descriptor deletes the device and its routes, as with stock flanneld.
/// Addresses and routes are the Netlink module's job, not this type's.
public final class TunDevice: @unchecked Sendable {
  // @unchecked: `descriptor` changes only in `close()`, which is for the owner, after the
  // forwarder using `fd` has stopped; everything else is fixed at init.
  private var descriptor: OwnedDescriptor?
  /// The queue's descriptor number, for the forwarder's requests; valid until `close()`.
  public let fd: Int32
  /// The name the kernel assigned, e.g. "flannel0" for the template "flannel%d".
  public let name: String
  /// Opened with IFF_VNET_HDR: every read and write carries a `VirtioNetHeader` first.
  public let hasVirtioHeader: Bool

  /// IFF_MULTI_QUEUE: one device, several queues (one per forwarder).
  static let multiQueueFlag = Int16(FLANNEL_IFF_MULTI_QUEUE)

  /// Opens `count` queues of one device: with 1, exactly `init(name:virtioHeader:)` (no
  /// IFF_MULTI_QUEUE, as before); with more, the first queue creates the device with
  /// IFF_MULTI_QUEUE and the others attach to it by its assigned name with the same flags
  /// (the kernel refuses a queue whose IFF_VNET_HDR or IFF_MULTI_QUEUE choice differs). The
  /// kernel spreads packets leaving through the device over the queues by flow. The device
  /// goes away when the last queue is closed (here, when a later queue fails to open).
  public static func openQueues(name: String = "flannel%d", count: Int, virtioHeader: Bool)
    throws(DataPlaneError) -> [TunDevice]
  {
    guard count > 1 else { return [try TunDevice(name: name, virtioHeader: virtioHeader)] }
    let first = try TunDevice(name: name, virtioHeader: virtioHeader, multiQueue: true)
    var queues = [first]
    for _ in 1..<count {
      queues.append(try TunDevice(name: first.name, virtioHeader: virtioHeader, multiQueue: true))
    }
    return queues
  }

  /// Opens /dev/net/tun and attaches a device named `name`, which may be a template with `%d`.
  /// With `virtioHeader`, the device is opened with IFF_VNET_HDR and a header size of
  /// `VirtioNetHeader.size` (offloads are then asked for with `setOffloads`).
  public convenience init(name: String = "flannel%d", virtioHeader: Bool = false)
    throws(DataPlaneError)
  {
    try self.init(name: name, virtioHeader: virtioHeader, multiQueue: false)
  }

  /// With `multiQueue`, IFF_MULTI_QUEUE: creates the device, or attaches one more queue when a
  /// multi-queue device of that name exists.
  init(name: String, virtioHeader: Bool, multiQueue: Bool) throws(DataPlaneError) {
    guard name.utf8.count < Int(IFNAMSIZ) else {
      throw DataPlaneError(operation: "tun device name", object: name, errno: ENAMETOOLONG)
    }
    // Closed on the way out if a step below fails.
    let descriptor = OwnedDescriptor(
      try retryingOnEINTR("open /dev/net/tun") {
        open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
      })
    let fd = descriptor.rawValue
    var request = ifreq()
    Self.setName(name, in: &request)
    request.ifr_ifru.ifru_flags = flannel_IFF_TUN | flannel_IFF_NO_PI
    if virtioHeader { request.ifr_ifru.ifru_flags |= flannel_IFF_VNET_HDR }
    if multiQueue { request.ifr_ifru.ifru_flags |= Self.multiQueueFlag }
    try retryingOnEINTR("ioctl(TUNSETIFF)", object: name) {
      ioctl(fd, flannel_TUNSETIFF, &request)
    }
    if virtioHeader {
      var size = Int32(VirtioNetHeader.size)
      try retryingOnEINTR("ioctl(TUNSETVNETHDRSZ)", object: name) {
        ioctl(fd, flannel_TUNSETVNETHDRSZ, &size)
      }
    }
    self.fd = fd
    self.descriptor = consume descriptor
    self.name = Self.name(of: request)
    hasVirtioHeader = virtioHeader
  }

  /// TUNSETOFFLOAD: the TUN_F_* bits (`flannel_TUN_F_CSUM`, …) the reader handles; 0 turns
  /// every offload off. Throws the refusal (EINVAL: a bit this kernel does not know; EBADF
  /// after `close()`). Any thread, including the forwarder's when it turns offloads off at run
  /// time.
  public func setOffloads(_ flags: UInt32) throws(SystemCallError) {
    guard let fd = descriptor?.rawValue else {
      throw SystemCallError(operation: "ioctl(TUNSETOFFLOAD)", object: name, errno: EBADF)
    }
    try retryingOnEINTR("ioctl(TUNSETOFFLOAD)", object: name) {
      ioctl(fd, flannel_TUNSETOFFLOAD, CInt(bitPattern: flags))
    }
  }

  /// Closes this queue (the last queue's close deletes the device); later calls do nothing.
  /// Otherwise the descriptor is closed when the device is released.
  public func close() { descriptor = nil }

  /// Sets the MTU (ext MTU − 28 for the udp backend).
  public func setMTU(_ mtu: Int) throws(DataPlaneError) {
    var request = request()
    request.ifr_ifru.ifru_mtu = Int32(mtu)
    try withHelperSocket("ioctl(SIOCSIFMTU)", "\(name) \(mtu)") { socket in
      ioctl(socket, flannel_SIOCSIFMTU, &request)
    }
  }

  /// Sets IFF_UP (keeping the other flags).
  public func setUp() throws(DataPlaneError) {
    var request = request()
    try withHelperSocket("ioctl(SIOCGIFFLAGS)", name) { socket in
      ioctl(socket, flannel_SIOCGIFFLAGS, &request)
    }
    request.ifr_ifru.ifru_flags |= Int16(IFF_UP)
    try withHelperSocket("ioctl(SIOCSIFFLAGS)", "\(name) up") { socket in
      ioctl(socket, flannel_SIOCSIFFLAGS, &request)
    }
  }

  /// Sets the transmit queue length; the default 500 drops bursts (perf-notes §1.6, §7).
  public func setTxQueueLength(_ length: Int) throws(DataPlaneError) {
    var request = request()
    request.ifr_ifru.ifru_ivalue = Int32(length)
    try withHelperSocket("ioctl(SIOCSIFTXQLEN)", "\(name) \(length)") { socket in
      ioctl(socket, flannel_SIOCSIFTXQLEN, &request)
    }
  }

  private func request() -> ifreq {
    var request = ifreq()
    Self.setName(name, in: &request)
    return request
  }

  /// Interface ioctls need some socket to go through; a throwaway UDP socket will do.
  private func withHelperSocket(
    _ operation: String, _ object: @autoclosure () -> String, _ body: (Int32) -> Int32
  ) throws(DataPlaneError) {
    let socket = OwnedDescriptor(
      try retryingOnEINTR("socket for interface ioctl") {
        Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      })
    let fd = socket.rawValue
    try retryingOnEINTR(operation, object: object()) { body(fd) }
  }

  private static func setName(_ name: String, in request: inout ifreq) {
    withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { bytes in
      bytes.initializeMemory(as: UInt8.self, repeating: 0)
      for (i, byte) in name.utf8.prefix(bytes.count - 1).enumerated() { bytes[i] = byte }
    }
  }

  private static func name(of request: ifreq) -> String {
    withUnsafeBytes(of: request.ifr_ifrn.ifrn_name) { bytes in
      String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
  }
}
