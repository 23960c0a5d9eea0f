import SystemCalls

/// A failed system call of the data plane, e.g. `ioctl(TUNSETIFF) flannel%d: Operation not
/// permitted` or `bind udp 10.0.0.1:8285: Address already in use`: the shared
/// `SystemCallError` under the name this module's API has always used.
public typealias DataPlaneError = SystemCallError
