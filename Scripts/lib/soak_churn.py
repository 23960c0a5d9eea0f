#!/usr/bin/env python3
"""Lease churn for Scripts/soak.sh: fake nodes' leases added, changed and deleted in etcd.

  soak_churn.py ENDPOINT PREFIX ETCD_LEASE_ID RATE CONTROL_DIR OUT.json

Writes through etcd's v3 JSON gateway, in stock flanneld's format: key
PREFIX/subnets/10.1.X.0-24 with X in 128..255 (the real nodes lease below 10.1.128.0, see the
config's SubnetMax), value {"PublicIP": "192.168.200.Y", "PublicIPv6": null, "BackendType":
"udp"}, attached to ETCD_LEASE_ID. The fake PublicIPs sit in 192.168.200.0/24, which nothing
in the lab holds: datagrams to them die in the underlay namespace.

RATE operations a second, on a fixed schedule; the table random-walks between 32 and 96
fake leases (an add or a delete each step, one step in ten a changed PublicIP). An operation
that fails (etcd stopped) is retried every 0.2 s until it goes through, and the schedule then
restarts from that moment: nothing is written while etcd is down, nothing is dropped. Stops
when CONTROL_DIR/stop exists; OUT.json gets the counts.
"""
import base64
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

endpoint, prefix, lease_id, rate, control, out = sys.argv[1:7]
interval = 1.0 / float(rate)
FIRST, LAST = 128, 255
LOW, HIGH = 32, 96
rng = random.Random(12)
counts = {"adds": 0, "changes": 0, "deletes": 0, "failed_attempts": 0, "retried_ops": 0,
          "longest_retry_s": 0.0}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def key(x):
    return "%s/subnets/10.1.%d.0-24" % (prefix, x)


def value(public_y):
    return json.dumps({"PublicIP": "192.168.200.%d" % public_y, "PublicIPv6": None,
                       "BackendType": "udp"}, separators=(",", ":"))


def post(path, body):
    req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=1.0) as response:
        response.read()


def put(x, public_y):
    post("/v3/kv/put", {"key": b64(key(x)), "value": b64(value(public_y)), "lease": lease_id})


def delete(x):
    post("/v3/kv/deleterange", {"key": b64(key(x))})


def stopped():
    return os.path.exists(os.path.join(control, "stop"))


def apply(operation):
    """Runs operation until it succeeds (idempotent: a put or a delete of one key)."""
    started = time.monotonic()
    failed = False
    while True:
        try:
            operation()
            break
        except (urllib.error.URLError, OSError, TimeoutError):
            counts["failed_attempts"] += 1
            failed = True
            if stopped():
                return False
            time.sleep(0.2)
    if failed:
        counts["retried_ops"] += 1
        counts["longest_retry_s"] = max(counts["longest_retry_s"],
                                        round(time.monotonic() - started, 2))
    return True


table = {}  # x -> public_y, as written
next_at = time.monotonic()
while not stopped():
    now = time.monotonic()
    if now < next_at:
        time.sleep(next_at - now)
        continue
    free = [x for x in range(FIRST, LAST + 1) if x not in table]
    if table and rng.random() < 0.1:
        x = rng.choice(sorted(table))
        y = (table[x] % 250) + 1
        kind, done = "changes", apply(lambda: put(x, y))
    elif len(table) < LOW or (len(table) < HIGH and rng.random() < 0.5):
        x = rng.choice(free)
        y = x - 100
        kind, done = "adds", apply(lambda: put(x, y))
    else:
        x = rng.choice(sorted(table))
        y = None
        kind, done = "deletes", apply(lambda: delete(x))
    if not done:
        break
    counts[kind] += 1
    if y is None:
        table.pop(x, None)
    else:
        table[x] = y
    after = time.monotonic()
    # After a retry the schedule restarts rather than catching up in a burst.
    next_at = next_at + interval if after - next_at < 1.0 else after + interval

counts["fake_leases_at_end"] = len(table)
with open(out + ".tmp", "w") as f:
    json.dump(counts, f)
os.rename(out + ".tmp", out)
