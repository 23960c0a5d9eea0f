/// Runs `body` every `interval` until cancelled (the backends' resync and retry loops).
func periodicTask(
  every interval: Duration, _ body: @escaping @Sendable () async -> Void
) -> Task<Void, Never> {
  Task {
    while !Task.isCancelled {
      try? await Task.sleep(for: interval)
      if Task.isCancelled { return }
      await body()
    }
  }
}
