import FlannelCore
import Foundation
import Netlink

/// `watch N SECONDS`: reports link deletions seen by LinkDeletionMonitor.
enum ProbeWatch {
  static func run(count: Int, seconds: Double, emit: (JSONValue) -> Void) {
    let events = EventBox()
    let monitor: LinkDeletionMonitor
    do {
      monitor = try LinkDeletionMonitor { events.append($0) }
    } catch {
      emit(.object([JSONMember("error", .string(error.description))]))
      return
    }
    defer { monitor.stop() }
    emit(.object([JSONMember("ready", .bool(true))]))
    let deadline = Date().addingTimeInterval(seconds)
    var reported = 0
    while reported < count && Date() < deadline {
      for event in events.take() {
        switch event {
        case .deleted(let index, let name):
          emit(
            .object([
              JSONMember("deleted", .string(name)), JSONMember("index", .int(Int64(index))),
            ]))
          reported += 1
        case .overrun:
          emit(.object([JSONMember("overrun", .bool(true))]))
        }
      }
      usleep(10_000)
    }
    emit(.object([JSONMember("ok", .int(Int64(reported)))]))
  }
}

/// Events handed from the monitor thread to the probe's main thread.
final class EventBox: @unchecked Sendable {
  private var events: [LinkMonitorEvent] = []
  private let lock = NSLock()  // guards `events`
  func append(_ event: LinkMonitorEvent) { lock.withLock { events.append(event) } }
  func take() -> [LinkMonitorEvent] {
    lock.withLock {
      defer { events = [] }
      return events
    }
  }
}
