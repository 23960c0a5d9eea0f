import SystemCalls

/// A failed netlink operation: what was being done (`route replace`), to what
/// (`10.1.16.0/24 via 10.1.16.0 dev flannel.1 onlink`) and the kernel's errno, so that a log
/// line alone says which entry failed and why — the shared `SystemCallError` under the name
/// this module's API has always used.
public typealias NetlinkError = SystemCallError
