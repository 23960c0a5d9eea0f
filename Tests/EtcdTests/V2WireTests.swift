import Foundation
import Testing

@testable import Etcd

/// The v2 keys API documents, decoded without a transfer: bodies recorded from etcd 3.4.
@Suite struct V2WireTests {
  @Test func decodesAResponseWithPrevNode() throws {
    let body =
      #"{"action":"set","node":{"key":"/coreos.com/network/subnets/10.1.15.0-24","value":"{\"PublicIP\":\"10.0.0.1\"}","expiration":"2026-12-06T15:44:58.922411758Z","ttl":3600,"modifiedIndex":6,"createdIndex":6},"prevNode":{"key":"/coreos.com/network/subnets/10.1.15.0-24","value":"x","modifiedIndex":5,"createdIndex":5}}"#
    let r = try EtcdV2Response.decode(Array(body.utf8), etcdIndex: 9, what: "test")
    #expect(r.action == "set" && r.etcdIndex == 9)
    #expect(r.node?.key == "/coreos.com/network/subnets/10.1.15.0-24")
    #expect(r.node?.value == #"{"PublicIP":"10.0.0.1"}"#)
    #expect(r.node?.ttl == 3600 && r.node?.modifiedIndex == 6)
    #expect(r.node?.expiration == V2Time.parse("2026-12-06T15:44:58.922411758Z"))
    #expect(r.prevNode?.value == "x" && r.prevNode?.expiration == nil)
  }

  @Test func decodesAnErrorDocument() {
    let body =
      #"{"errorCode":105,"message":"Key already exists","cause":"/coreos.com/network/subnets/10.1.15.0-24","index":6}"#
    #expect(
      EtcdV2Error.decode(Array(body.utf8), key: "/k", etcdIndex: 9)
        == EtcdV2Error(
          errorCode: 105, message: "Key already exists",
          cause: "/coreos.com/network/subnets/10.1.15.0-24", index: 6))
    #expect(
      EtcdV2Error.decode(Array(#"{"errorCode":100}"#.utf8), key: "/k", etcdIndex: 9)
        == EtcdV2Error(errorCode: 100, message: "", cause: "/k", index: 9))
    #expect(EtcdV2Error.decode(Array("<html>".utf8), key: "/k", etcdIndex: 9) == nil)
  }
}
