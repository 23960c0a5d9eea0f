import Testing
import TestSupport

@Test func etcdHarnessStartsAndAnswers() throws {
  let etcd = try EtcdServer()
  defer { etcd.stop() }
  try etcd.etcdctl(["put", "/probe", "v"])
  let out = try etcd.etcdctl(["get", "/probe", "--print-value-only"])
  #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "v")
}
