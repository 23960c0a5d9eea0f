// swift-tools-version:6.0
import PackageDescription

// Layers (see ../shared/DESIGN.md): arrows point down only.
//   flanneld → Daemon → Backends → SubnetManager → Etcd → CCurl
//                               → Netlink → CLibMnl       → FlannelCore
//                               → DataPlane → CChecksum, CLibURing, CSystemShims
//                               → WireGuard → CCrypto
//   Daemon, Netlink, DataPlane → SystemCalls (EINTR retry, SystemCallError, OwnedDescriptor)
// The C system-library targets only expose what Swift cannot reach; keep each
// one narrow so that, for example, the data plane never links libcurl.
let package = Package(
  name: "swift-flannel",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "flanneld", targets: ["flanneld"]),
    // For Benchmarks/ (its own package): the packet ops and route table of the data plane.
    .library(name: "DataPlane", targets: ["DataPlane"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2")
  ],
  targets: [
    .systemLibrary(
      name: "CLibURing", pkgConfig: "liburing", providers: [.apt(["liburing-dev"])]),
    .systemLibrary(name: "CLibMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
    .systemLibrary(
      name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    // OpenSSL's libcrypto, only for the WireGuard protocol's primitives.
    .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

    // GNU-only libc calls (mallopt, later recvmmsg/setns/…), compiled with _GNU_SOURCE.
    .target(name: "CSystemShims"),
    // The checksum's bulk loop with AVX2, picked at run time (DataPlane's Checksum).
    .target(name: "CChecksum"),

    .target(name: "FlannelCore"),
    // The one system-call layer under DataPlane, Netlink and Daemon.
    .target(name: "SystemCalls"),
    .target(name: "Etcd", dependencies: ["CCurl"]),
    .target(
      name: "SubnetManager",
      dependencies: ["FlannelCore", "Etcd", .product(name: "Logging", package: "swift-log")]),
    .target(name: "Netlink", dependencies: ["CLibMnl", "FlannelCore", "SystemCalls"]),
    .target(
      name: "DataPlane",
      dependencies: ["CChecksum", "CLibURing", "CSystemShims", "SystemCalls", "WireGuard"]),
    // The WireGuard protocol: handshake, cookies, timers, replay window, in-place seal/open.
    .target(name: "WireGuard", dependencies: ["CCrypto"]),
    .target(
      name: "Backends",
      dependencies: [
        "FlannelCore", "SubnetManager", "Netlink", "DataPlane", "WireGuard",
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(
      name: "Daemon",
      dependencies: [
        "FlannelCore", "Etcd", "SubnetManager", "Backends", "Netlink", "DataPlane", "CSystemShims",
        "SystemCalls", "WireGuard", .product(name: "Logging", package: "swift-log"),
      ]),
    .executableTarget(name: "flanneld", dependencies: ["Daemon", "CSystemShims"]),
    // Test tool: runs Netlink operations inside a namespace (`ip netns exec`).
    .executableTarget(name: "netlink-probe", dependencies: ["Netlink", "FlannelCore"]),
    // Test tool: drives the vxlan / host-gw backends inside a namespace.
    .executableTarget(
      name: "backend-probe",
      dependencies: [
        "Backends", "Netlink", "FlannelCore", "SubnetManager",
        .product(name: "Logging", package: "swift-log"),
      ]),
    // Kernel-test harness for the data plane (one Forwarder with static routes).
    .executableTarget(name: "udp-forwarder-probe", dependencies: ["DataPlane", "FlannelCore"]),
    // Test helper: runs Daemon pieces inside a network namespace (`ip netns exec`).
    .executableTarget(
      name: "daemon-probe",
      dependencies: ["Daemon", "FlannelCore", .product(name: "Logging", package: "swift-log")]),

    // Test tool: records a WireGuard handshake against a real peer (wireguard-go).
    .executableTarget(name: "wireguard-probe", dependencies: ["WireGuard"]),

    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "FlannelCoreTests", dependencies: ["FlannelCore"]),
    .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls"]),
    .testTarget(name: "EtcdTests", dependencies: ["Etcd", "TestSupport"]),
    .testTarget(
      name: "SubnetManagerTests",
      dependencies: ["SubnetManager", "FlannelCore", "Etcd", "TestSupport"]),
    .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "TestSupport"]),
    .testTarget(
      name: "DataPlaneTests", dependencies: ["CChecksum", "DataPlane", "TestSupport", "WireGuard"]),
    .testTarget(
      name: "BackendsTests",
      dependencies: ["Backends", "FlannelCore", "SubnetManager", "TestSupport", "WireGuard"]),
    .testTarget(
      name: "DaemonTests",
      dependencies: [
        "Daemon", "Backends", "DataPlane", "FlannelCore", "SubnetManager", "TestSupport",
        "WireGuard",
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(name: "WireGuardTests", dependencies: ["WireGuard"]),
    .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "FlannelCore"]),
  ],
  swiftLanguageModes: [.v6]
)
