import Foundation
import TestSupport
import Testing

@Suite struct LinkTests {
  @Test func vethPairUpMTUAndMACMatchIPLink() throws {
    let ns = try ScratchNamespace("nl-link")
    let probe = NetlinkProbe(namespace: ns)
    let link = try probe.expectSuccess(
      "veth h0 h1", "up h0", "mtu h0 1400", "mac h0 02:11:22:33:44:55", "link h0"
    ).object
    let ip = try #require(try ns.json("/usr/sbin/ip", ["-d", "-j", "link", "show", "h0"]).first)
    #expect(link["name"] as? String == "h0")
    #expect(link["kind"] as? String == "veth")
    #expect(link["index"] as? Int == ip["ifindex"] as? Int)
    #expect(link["mtu"] as? Int == 1400 && ip["mtu"] as? Int == 1400)
    #expect(link["mac"] as? String == "02:11:22:33:44:55")
    #expect(ip["address"] as? String == "02:11:22:33:44:55")
    #expect(link["up"] as? Bool == true)
    #expect((ip["flags"] as? [String])?.contains("UP") == true)
    // The peer was created down and stays so.
    let peer = try probe.expectSuccess("link h1").object
    #expect(peer["up"] as? Bool == false)
  }

  @Test func missingLinkIsNilAndDeleteRemovesIt() throws {
    let ns = try ScratchNamespace("nl-link")
    let probe = NetlinkProbe(namespace: ns)
    let answers = try probe.run(["link nothere", "veth d0 d1", "del d0", "link d0", "link d1"])
    #expect(answers.map(\.succeeded) == [true, true, true, true, true])
    #expect(answers[0].ok is NSNull)
    #expect(answers[3].ok is NSNull)
    #expect(answers[4].ok is NSNull)  // deleting one end of a veth removes both
    #expect(try ns.json("/usr/sbin/ip", ["-j", "link"]).map { $0["ifname"] as? String } == ["lo"])
  }

  struct VXLANCase: Sendable, CustomStringConvertible {
    let options: String
    let vni: Int
    let local: String?
    let port: Int
    let learning: Bool
    let gbp: Bool
    let onUnderlay: Bool
    var description: String { options }
  }

  static let vxlanCases = [
    // flannel's defaults: port 0 = the kernel's 8472, learning off, local + dev set.
    VXLANCase(
      options: "vni=1 local=192.168.50.1 dev=u0 gbp=1 mtu=1450 mac=0e:aa:bb:cc:dd:01", vni: 1,
      local: "192.168.50.1", port: 8472, learning: false, gbp: true, onUnderlay: true),
    VXLANCase(
      options: "vni=4096 port=4789 learning=1", vni: 4096, local: nil, port: 4789,
      learning: true, gbp: false, onUnderlay: false),
  ]

  @Test(arguments: vxlanCases)
  func vxlanCreateReadsBackEveryAttribute(_ c: VXLANCase) throws {
    let ns = try ScratchNamespace("nl-vx")
    let probe = NetlinkProbe(namespace: ns)
    try probe.expectSuccess("veth u0 u1", "addr-add u0 192.168.50.1/24")
    let created = try probe.expectSuccess("vxlan flannel.\(c.vni) \(c.options)").object
    let read = try probe.expectSuccess("link flannel.\(c.vni)").object
    #expect(NSDictionary(dictionary: created) == NSDictionary(dictionary: read))
    let vx = try #require(read["vxlan"] as? [String: Any])
    let underlay = try probe.expectSuccess("link u0").object

    let ip = try #require(
      try ns.json("/usr/sbin/ip", ["-d", "-j", "link", "show", "flannel.\(c.vni)"]).first)
    let data = try #require((ip["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any])
    #expect(read["kind"] as? String == "vxlan")
    #expect(vx["vni"] as? Int == c.vni && data["id"] as? Int == c.vni)
    #expect(vx["port"] as? Int == c.port && data["port"] as? Int == c.port)
    #expect(vx["local"] as? String == c.local && data["local"] as? String == c.local)
    #expect(vx["learning"] as? Bool == c.learning && data["learning"] as? Bool == c.learning)
    #expect(vx["gbp"] as? Bool == c.gbp && (data["gbp"] as? Bool ?? false) == c.gbp)
    if c.onUnderlay {
      #expect(vx["link"] as? Int == underlay["index"] as? Int)
      #expect(data["link"] as? String == "u0")
      #expect(read["mtu"] as? Int == 1450 && ip["mtu"] as? Int == 1450)
      #expect(read["mac"] as? String == "0e:aa:bb:cc:dd:01")
    } else {
      #expect(vx["link"] is NSNull && data["link"] == nil)
    }
  }

  @Test func linkDeletionSubscriptionReportsNameAndIndex() throws {
    let ns = try ScratchNamespace("nl-watch")
    let probe = NetlinkProbe(namespace: ns)
    let index = try #require(
      try probe.expectSuccess("veth w0 w1", "vxlan flannel.1 vni=1").object["index"] as? Int)
    let watcher = try LineProcess(
      "/usr/sbin/ip", ["netns", "exec", ns.name, NetlinkProbe.binary], input: "watch 1 10\n")
    #expect(try watcher.nextLine() == #"{"ready":true}"#)
    try ns.ip("link", "del", "flannel.1")
    #expect(try watcher.nextLine() == #"{"deleted":"flannel.1","index":\#(index)}"#)
    #expect(try watcher.nextLine() == #"{"ok":1}"#)
  }
}
