// swift-tools-version:6.1
import PackageDescription

// In-process packet-rate benchmarks of the udp data plane (ordo-one/benchmark), in their own
// package so that the main build does not pay for the benchmark library. Run from this folder:
//   swift package --allow-writing-to-package-directory benchmark
// Each benchmark of ours runs beside a baseline of stock flanneld's way of doing the same
// thing, measured in the same run: compare the ratios, not absolute figures across runs.
let package = Package(
  name: "swift-flannel-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
      traits: ["MallocInterposer"]),
    .package(name: "swift-flannel", path: ".."),
  ],
  targets: [
    // The packets and routes both executables below work on.
    .target(
      name: "BenchmarkPackets",
      dependencies: [.product(name: "DataPlane", package: "swift-flannel")],
      path: "Sources/BenchmarkPackets"),
    .executableTarget(
      name: "PacketOps",
      dependencies: [
        "BenchmarkPackets",
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "DataPlane", package: "swift-flannel"),
      ],
      path: "Benchmarks/PacketOps",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // Instructions per packet under callgrind (Scripts/packet-instructions.sh).
    .executableTarget(
      name: "PacketOpsCount",
      dependencies: ["BenchmarkPackets", .product(name: "DataPlane", package: "swift-flannel")],
      path: "Sources/PacketOpsCount"),
  ],
  swiftLanguageModes: [.v6]
)
