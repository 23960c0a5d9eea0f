import Testing

@testable import Etcd

/// The gateway request bodies: compact JSON, keys sorted, strings escaped as JSON requires.
@Suite struct WireJSONTests {
  @Test func encodesTheBodiesTheClientSends() {
    #expect(
      WireJSON.encode(["key": "L2E=", "range_end": "L2I=", "limit": "5000"])
        == #"{"key":"L2E=","limit":"5000","range_end":"L2I="}"#)
    #expect(
      WireJSON.encode([
        "compare": [["key": "a", "target": "CREATE", "create_revision": "0"]],
        "success": [["request_put": ["key": "a", "value": "b", "lease": "7"]]],
      ])
        == #"{"compare":[{"create_revision":"0","key":"a","target":"CREATE"}],"success":[{"request_put":{"key":"a","lease":"7","value":"b"}}]}"#
    )
    #expect(WireJSON.encode(["physical": true, "n": 3]) == #"{"n":3,"physical":true}"#)
    #expect(WireJSON.encode([:]) == "{}")
  }

  @Test func escapesWhatJSONRequires() {
    #expect(
      WireJSON.encode(["password": "q\"u\\o\nt\u{1}é"])
        == #"{"password":"q\"u\\o\nt\u0001é"}"#)
  }
}
