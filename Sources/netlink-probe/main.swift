// netlink-probe: runs netlink operations of the Netlink module inside whatever network
// namespace it is started in (tests run it under `ip netns exec`), because the namespace
// belongs to the thread and a test process cannot move its pooled threads safely.
//
// Script on stdin, one command per line (see ProbeCommand); one JSON line per command on
// stdout: {"ok":<result>} or {"error":"<NetlinkError text>"}. `watch N SECONDS` prints
// {"ready":true} once subscribed, then one line per link deletion until N or the timeout.

import FlannelCore
import Foundation
import Netlink

/// One unbuffered line per answer, so a test reading the pipe sees it at once.
func emit(_ value: JSONValue) {
  FileHandle.standardOutput.write(Data((value.serialized() + "\n").utf8))
}

let socket: NetlinkSocket
do {
  socket = try NetlinkSocket()
} catch {
  emit(.object([JSONMember("error", .string(error.description))]))
  exit(1)
}

while let line = readLine() {
  let words = line.split(separator: " ").map(String.init)
  if words.isEmpty { continue }
  if words[0] == "watch" {
    ProbeWatch.run(
      count: Int(words.count > 1 ? words[1] : "1") ?? 1,
      seconds: Double(words.count > 2 ? words[2] : "5") ?? 5, emit: emit)
    continue
  }
  do {
    emit(.object([JSONMember("ok", try ProbeCommand(socket: socket, words: words).run())]))
  } catch {
    emit(.object([JSONMember("error", .string("\(error)"))]))
  }
}
