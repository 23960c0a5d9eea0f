import Etcd
import Foundation
import TestSupport
import Testing

/// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate.
struct TestPKI: Sendable {
  let dir: URL
  var ca: String { dir.appendingPathComponent("ca.pem").path }
  var serverCert: String { dir.appendingPathComponent("server.pem").path }
  var serverKey: String { dir.appendingPathComponent("server-key.pem").path }
  var clientCert: String { dir.appendingPathComponent("client.pem").path }
  var clientKey: String { dir.appendingPathComponent("client-key.pem").path }

  init() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-pki-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let ssl = "/usr/bin/openssl"
    let d = dir.path
    try Shell.run(
      ssl,
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "\(d)/ca-key.pem", "-out", ca,
      ])
    // etcd's v3 gateway dials etcd's own gRPC port presenting the server certificate, so under
    // --client-cert-auth that certificate must also be good for client auth.
    for (name, ext) in [
      ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"),
      ("client", "extendedKeyUsage=clientAuth"),
    ] {
      try ext.write(toFile: "\(d)/\(name).ext", atomically: true, encoding: .utf8)
      try Shell.run(
        ssl,
        [
          "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout",
          "\(d)/\(name)-key.pem", "-out", "\(d)/\(name).csr",
        ])
      try Shell.run(
        ssl,
        [
          "x509", "-req", "-in", "\(d)/\(name).csr", "-CA", ca, "-CAkey", "\(d)/ca-key.pem",
          "-CAcreateserial", "-days", "1", "-extfile", "\(d)/\(name).ext", "-out",
          "\(d)/\(name).pem",
        ])
    }
  }

  func remove() { try? FileManager.default.removeItem(at: dir) }
}

@Suite struct TLSTests {
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
  func clientCertificateAuthOverHTTPS() async throws {
    let pki = try await offPool { try TestPKI() }
    defer { pki.remove() }
    let etcd = try await offPool {
      try EtcdServer(
        extraArguments: [
          "--cert-file", pki.serverCert, "--key-file", pki.serverKey, "--trusted-ca-file", pki.ca,
          "--client-cert-auth",
        ],
        scheme: "https",
        healthCheckArguments: [
          "--cacert", pki.ca, "--cert", pki.clientCert, "--key", pki.clientKey,
        ])
    }
    defer { etcd.stop() }

    let tls = EtcdClientConfig(
      endpoints: [etcd.endpoint], caFile: pki.ca, certFile: pki.clientCert,
      keyFile: pki.clientKey)
    let v3 = try EtcdV3Client(config: tls)
    let rev = try await v3.put("/tls", value: "secure")
    #expect(try await v3.get("/tls").kv?.value == "secure")
    let watched = try await collect(v3.watch(prefix: "/tls", startRevision: rev), count: 1)
    #expect(watched.first?.event.kv.value == "secure")
    let v2 = try EtcdV2Client(config: tls)
    try await v2.set("/tls", value: "v2")
    #expect(try await v2.get("/tls").node?.value == "v2")

    // Without the CA the server is not trusted; without a client cert etcd refuses us.
    let cases: [(String, EtcdClientConfig)] = [
      ("no CA", EtcdClientConfig(endpoints: [etcd.endpoint])),
      ("no client cert", EtcdClientConfig(endpoints: [etcd.endpoint], caFile: pki.ca)),
    ]
    for (name, config) in cases {
      await #expect("\(name)") {
        _ = try await EtcdV3Client(config: config).get("/tls")
      } throws: { error in
        guard case EtcdError.unavailable(_, let last) = error else { return false }
        // e.g. "etcd v3 get /tls at https://127.0.0.1:P: SSL certificate problem: unable to get
        // local issuer certificate"
        return last.contains("etcd v3 get /tls at \(etcd.endpoint)") && last.contains("SSL")
      }
    }
  }
}
