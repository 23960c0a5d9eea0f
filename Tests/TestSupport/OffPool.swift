import Foundation

/// Runs blocking harness work (starting etcd polls /health for seconds) on its own thread, so
/// it does not hold one of the two cooperative threads the clients under test need, which
/// would distort the timing checks of tests running in parallel.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}
