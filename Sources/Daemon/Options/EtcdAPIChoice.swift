/// Which etcd API the daemon talks (`-etcd-api`, ours): stock ≤v0.17 speaks only v2, stock
/// ≥v0.18 only v3; `auto` uses v3 when the cluster serves it, else v2.
public enum EtcdAPIChoice: String, Sendable, CaseIterable {
  case auto
  case v3
  case v2
}
