// backend-probe: drives a VXLANBackend or HostGWBackend with synthetic lease tables inside
// the network namespace it runs in (`ip netns exec`), for the backend tests.
//
//   backend-probe <vxlan|host-gw> <external iface> <Network> '<Backend JSON>' [public IP]
//
// Commands on stdin, one JSON line each on stdout ({"ok":…} or {"error":"…"}), log records
// as {"log":"…"} lines:
//   prepare                      → {"backendType":…,"backendData":…,"mtu":…}
//   configure SUBNET [SUBNET6]   our lease (public IP = the interface address)
//   apply [SUBNET,IP,TYPE[,MAC]]…  the whole lease table (MAC → {"VNI":1,"VtepMAC":MAC});
//                                a lease word may end in ,v6=SUBNET6,ip6=IPV6[,mac6=MAC]
//                                (dual-stack; mac6 → BackendV6Data {"VNI":1,"VtepMAC":MAC})
//   add SUBNET,IP,TYPE[,MAC]…    one update of `added` events (a delta)
//   remove SUBNET,IP,TYPE[,MAC]… one update of `removed` events (a delta)
//   relist [SUBNET,IP,TYPE[,MAC]]…  the table after a re-list: the difference to the table
//                                the probe holds as events, with `reconcile` (lost history)
//   dump                         the kernel state read back through the Netlink module
// PROBE_PLAIN_ROUTES=1 makes the backend program plain routes instead of nexthop objects.
// PROBE_IPV6_NETWORK=<IPv6 CIDR> makes the network dual-stack (EnableIPv6, that IPv6Network);
// the node's IPv6 address is the interface's first global one.
//   hold SECONDS                 let the backend's loops run (device recreation, route check)
//   stop

import Backends
import FlannelCore
import Foundation
import Logging
import Netlink
import SubnetManager

LoggingSystem.bootstrap { _ in ProbeLogHandler() }

func fail(_ text: String) -> Never {
  emitLine(.object([JSONMember("error", .string(text))]))
  exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count >= 5 else { fail("usage: backend-probe TYPE IFACE NETWORK BACKEND [IP]") }
let backend: any Backend
do {
  let socket = try NetlinkSocket()
  guard let link = try socket.link(named: arguments[2]),
    let address = try socket.addresses(linkIndex: link.index).first?.address
  else { fail("no interface \(arguments[2]) with an IPv4 address") }
  var external = ExternalInterface(
    name: link.name, index: link.index, address: address,
    publicIP: arguments.count > 5 ? IPv4Address(arguments[5]) ?? address : address, mtu: link.mtu)
  var ipv6Members = ""
  if let ipv6Network = ProcessInfo.processInfo.environment["PROBE_IPV6_NETWORK"] {
    ipv6Members = #","EnableIPv6":true,"IPv6Network":"\#(ipv6Network)""#
    external.ipv6Address = try socket.ipv6Addresses(linkIndex: link.index)
      .first { !$0.address.description.hasPrefix("fe80:") }?.address
    external.publicIPv6 = external.ipv6Address
  }
  let network = try NetworkConfig.parse(
    #"{"Network":"\#(arguments[3])"\#(ipv6Members),"Backend":\#(arguments[4])}"#)
  // PROBE_PLAIN_ROUTES=1: routes as stock programs them, without nexthop objects.
  let context = BackendContext(
    external: external, network: network, logger: Logger(label: "backend-probe"),
    routeNexthops: ProcessInfo.processInfo.environment["PROBE_PLAIN_ROUTES"] != "1")
  backend =
    arguments[1] == "vxlan"
    ? try VXLANBackend(context: context) : try HostGWBackend(context: context)
} catch {
  fail("\(error)")
}

/// Reads `SUBNET,IP,TYPE[,MAC][,v6=SUBNET6][,ip6=IPV6]`.
func lease(_ word: String) throws -> Lease {
  let parts = word.split(separator: ",").map(String.init)
  guard parts.count >= 3, let subnet = IPv4Network(parts[0]), let ip = IPv4Address(parts[1])
  else { throw ProbeError(description: "bad lease \(word)") }
  var data: JSONValue? = nil
  var ipv6Subnet: IPv6Network? = nil
  var publicIPv6: IPv6Address? = nil
  var data6: JSONValue? = nil
  for part in parts.dropFirst(3) {
    if part.hasPrefix("mac6=") {
      data6 = .object([
        JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string(String(part.dropFirst(5)))),
      ])
    } else if part.hasPrefix("v6=") {
      ipv6Subnet = IPv6Network(String(part.dropFirst(3)))
    } else if part.hasPrefix("ip6=") {
      publicIPv6 = IPv6Address(String(part.dropFirst(4)))
    } else {
      data = .object([JSONMember("VNI", .int(1)), JSONMember("VtepMAC", .string(part))])
    }
  }
  return Lease(
    subnet: subnet, ipv6Subnet: ipv6Subnet,
    attrs: LeaseAttrs(
      publicIP: ip, backendType: parts[2], backendData: data, publicIPv6: publicIPv6,
      backendV6Data: data6),
    expiration: nil)
}

struct ProbeError: Error, CustomStringConvertible {
  let description: String
}

/// What the probe has told the backend so far (for `relist`).
var known = LeaseTable()

@MainActor func update(_ events: [LeaseEvent], reconcile: Bool = false) async {
  for event in events {
    switch event {
    case .added(let lease): known.insert(lease)
    case .removed(let lease): known.remove(lease.subnets)
    }
  }
  await backend.apply(
    LeaseUpdate(
      events: events, leaseCount: known.count, ownLease: nil, ownLeaseChanged: false,
      reconcile: reconcile))
}

while let line = readLine() {
  let words = line.split(separator: " ").map(String.init)
  guard let verb = words.first else { continue }
  do {
    var result = JSONValue.null
    switch verb {
    case "prepare":
      let attributes = try await backend.prepare()
      var members = [
        JSONMember("backendType", .string(attributes.backendType)),
        JSONMember("backendData", attributes.backendData ?? .null),
        JSONMember("mtu", .int(Int64(attributes.mtu))),
      ]
      // Only on a dual-stack network, so IPv4 answers stay as they were.
      if let data6 = attributes.backendV6Data { members.append(JSONMember("backendV6Data", data6)) }
      result = .object(members)
    case "configure":
      guard (2...3).contains(words.count), let subnet = IPv4Network(words[1]) else {
        throw ProbeError(description: "configure SUBNET [SUBNET6]")
      }
      let own = Lease(
        subnet: subnet, ipv6Subnet: words.count == 3 ? IPv6Network(words[2]) : nil,
        attrs: LeaseAttrs(publicIP: IPv4Address(0)), expiration: nil)
      try await backend.configure(ownLease: own)
    case "apply":
      let table = LeaseTable(try words.dropFirst().map(lease))
      known = table
      if let vxlan = backend as? VXLANBackend {
        await vxlan.apply(table: table)
      } else if let hostGW = backend as? HostGWBackend {
        await hostGW.apply(table: table)
      }
    case "add":
      await update(try words.dropFirst().map { .added(try lease($0)) })
    case "remove":
      await update(try words.dropFirst().map { .removed(try lease($0)) })
    case "relist":
      let fresh = LeaseTable(try words.dropFirst().map(lease))
      var events: [LeaseEvent] = known.leases.filter { fresh[$0.subnets] == nil }.map {
        .removed($0)
      }
      events += fresh.leases.filter { known[$0.subnets] != $0 }.map { .added($0) }
      await update(events, reconcile: true)
    case "dump":
      result = try KernelDump.read(deviceName: arguments[1] == "vxlan" ? "flannel.1" : nil)
    case "hold":
      try await Task.sleep(for: .seconds(Double(words.count > 1 ? words[1] : "1") ?? 1))
    case "stop":
      await backend.stop()
    default:
      throw ProbeError(description: "unknown command \(verb)")
    }
    emitLine(.object([JSONMember("ok", result)]))
  } catch {
    emitLine(.object([JSONMember("error", .string("\(error)"))]))
  }
}
