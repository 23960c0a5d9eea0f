import Backends
import Synchronization

/// The /debug/ pages of the health port: empty until the backend exists (the port opens
/// before), then the backend's (`Backend.debugPages()`).
final class DebugPages: Sendable {
  private let pages = Mutex<[String: @Sendable () -> String]>([:])

  func set(_ new: [String: @Sendable () -> String]) {
    pages.withLock { $0 = new }
  }

  /// The body of `path`, rendered now; nil when there is no such page.
  func page(_ path: String) -> String? {
    guard let render = pages.withLock({ $0[path] }) else { return nil }
    return render()
  }
}
