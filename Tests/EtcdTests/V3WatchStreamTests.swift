import Testing

@testable import Etcd

/// The watch stream parser without a transfer: lines recorded from etcd 3.4's gateway.
@Suite struct V3WatchStreamTests {
  static let created =
    #"{"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"created":true}}"#
  static let put =
    #"{"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"3","raft_term":"2"},"events":[{"kv":{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjEuMTYuMC0yNA==","create_revision":"3","mod_revision":"3","version":"1","value":"eyJQdWJsaWNJUCI6IjEwLjAuMC4yIn0=","lease":"4111120481365890326"}}]}}"#
  static let delete =
    #"{"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"5","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjEuMTYuMC0yNA==","mod_revision":"5"}}]}}"#
  static let compacted =
    #"{"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","raft_term":"2"},"canceled":true,"compact_revision":"6"}}"#

  static let key = "/coreos.com/network/subnets/10.1.16.0-24"
  static let expected: [V3WatchStream.Message] = [
    .result(nil),
    .result(
      EtcdV3WatchResponse(
        revision: 3,
        events: [
          EtcdV3WatchEvent(
            kind: .put,
            kv: EtcdKeyValue(
              key: key, value: #"{"PublicIP":"10.0.0.2"}"#, createRevision: 3, modRevision: 3,
              version: 1, lease: 4_111_120_481_365_890_326))
        ])),
    .result(
      EtcdV3WatchResponse(
        revision: 5,
        events: [
          EtcdV3WatchEvent(
            kind: .delete,
            kv: EtcdKeyValue(
              key: key, value: "", createRevision: 0, modRevision: 5, version: 0, lease: 0))
        ])),
    .end(.compacted(compactRevision: 6), answered: true),
  ]

  static func feed(_ text: String, chunk size: Int) -> [V3WatchStream.Message] {
    var stream = V3WatchStream(what: "test")
    let bytes = Array(text.utf8)
    var messages: [V3WatchStream.Message] = []
    bytes.withUnsafeBytes { raw in
      for start in stride(from: 0, to: bytes.count, by: size) {
        messages += stream.feed(
          UnsafeRawBufferPointer(rebasing: raw[start..<min(start + size, bytes.count)]))
      }
    }
    return messages
  }

  @Test(arguments: [1, 2, 7, 100, 100_000])
  func sameMessagesWhateverTheChunking(size: Int) {
    let text =
      [Self.created, Self.put, "  \r", Self.delete + "\r", Self.compacted, "ignored after the end"]
      .joined(separator: "\n") + "\n"
    #expect(Self.feed(text, chunk: size) == Self.expected)
  }

  @Test func anIncompleteLineWaitsForItsNewline() {
    var stream = V3WatchStream(what: "test")
    let bytes = Array(Self.created.utf8)
    bytes.withUnsafeBytes { raw in
      #expect(stream.feed(raw).isEmpty)
    }
    Array("\n".utf8).withUnsafeBytes { raw in
      #expect(stream.feed(raw) == [.result(nil)])
    }
  }

  @Test func garbageEndsTheStream() {
    let messages = Self.feed("not json\n" + Self.put + "\n", chunk: 3)
    #expect(messages.count == 1)
    guard case .end(.malformed(let text), answered: false) = messages.first else {
      Issue.record("\(messages)")
      return
    }
    #expect(text.contains("test"))
  }
}
