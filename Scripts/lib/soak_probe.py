#!/usr/bin/env python3
"""Probe clients for Scripts/soak.sh: hammer one flanneld's /healthz and /metrics.

  soak_probe.py HOST PORT CONTROL_DIR OUT.json [HEALTHZ_THREADS METRICS_THREADS PAUSE_MS]

Each request is a new connection (as a kubelet probe makes) with a deadline for the whole
exchange: 1 s for /healthz (a liveness probe's default timeout), 5 s for /metrics. A request
counts as a miss when it does not end in a 200 with the expected body within its deadline.
While CONTROL_DIR/pause exists no request starts (the script creates it before it kills the
daemon on purpose, so the gap of a dead process is not counted); CONTROL_DIR/stop ends the
run. OUT.json gets, per path: requests, misses (first 20 with time and reason) and the sorted
latencies' p50/p99/max in ms.
"""
import json
import os
import socket
import sys
import threading
import time

host, port, control, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
healthz_threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
metrics_threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
pause_s = (int(sys.argv[7]) if len(sys.argv) > 7 else 10) / 1000

PATHS = {
    # path: (deadline in s, text the body must contain)
    "/healthz": (1.0, b"flanneld is running"),
    "/metrics": (5.0, b"flannel_leases_known"),
}


def request(path):
    """One GET; returns None on success or a reason string."""
    deadline_s, want = PATHS[path]
    deadline = time.monotonic() + deadline_s

    def remaining():
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        return left

    sock = None
    try:
        sock = socket.create_connection((host, port), timeout=remaining())
        sock.settimeout(remaining())
        sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            sock.settimeout(remaining())
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and want in body and _complete(head, body):
                break
        status = data.split(b"\r\n", 1)[0]
        if b" 200 " not in status + b" ":
            return "status %r" % status[:40]
        if want not in data:
            return "body without %r" % want
        return None
    except TimeoutError:
        return "no answer within %.0f ms" % (deadline_s * 1000)
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error)
    finally:
        if sock is not None:
            sock.close()


def _complete(head, body):
    """True once the body is as long as Content-Length says (keep-alive servers)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


results = {path: {"latencies": [], "misses": [], "count": 0} for path in PATHS}
lock = threading.Lock()


def worker(path):
    while not os.path.exists(os.path.join(control, "stop")):
        if os.path.exists(os.path.join(control, "pause")):
            time.sleep(0.05)
            continue
        started_wall = time.time()
        started = time.monotonic()
        reason = request(path)
        elapsed_ms = (time.monotonic() - started) * 1000
        with lock:
            entry = results[path]
            entry["count"] += 1
            entry["latencies"].append(elapsed_ms)
            if reason is not None:
                entry["misses"].append({"at": round(started_wall, 3), "ms": round(elapsed_ms, 1),
                                        "reason": reason})
        time.sleep(pause_s)


def percentile(values, fraction):
    if not values:
        return None
    return round(values[min(len(values) - 1, int(fraction * len(values)))], 2)


threads = [threading.Thread(target=worker, args=("/healthz",)) for _ in range(healthz_threads)]
threads += [threading.Thread(target=worker, args=("/metrics",)) for _ in range(metrics_threads)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

summary = {}
for path, entry in results.items():
    latencies = sorted(entry["latencies"])
    summary[path] = {
        "requests": entry["count"],
        "misses": len(entry["misses"]),
        "first_misses": entry["misses"][:20],
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }
with open(out + ".tmp", "w") as f:
    json.dump(summary, f)
os.rename(out + ".tmp", out)
