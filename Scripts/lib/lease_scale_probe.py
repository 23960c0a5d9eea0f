#!/usr/bin/env python3
"""Kernel-side measurements for Scripts/lease-scale.sh. Runs inside the lab's host namespace
(ip netns exec); reads the kernel through rtnetlink (routes, neighbours, FDB entries) or the
udp backend's route-table gauges on flanneld's /metrics, and flanneld's /proc entry.

  lease_scale_probe.py sync --mode vxlan|host-gw|udp --count N --pid-file F --ready-file R
                            [--metrics-url URL] [--timeout S]
      Waits until ALL N leases have their kernel objects and prints one JSON object:
      {"synced_at": epoch s, "utime_s", "stime_s", "rss_kib", "hwm_kib", "route", ...}:
      synced_at is when the notification of the last object was received, the /proc
      figures are read as soon as the probe has parsed it (it parses in the pauses of the
      burst, to take little CPU from flanneld; "probe_cpu_s" says how much it took).
        vxlan:   N routes 10.X.Y.0/24 via a gateway in the main table (plain, or through a
                 nexthop object), N permanent neighbours 10.X.Y.0 and N FDB entries with a
                 remote (dst) address;
        host-gw: N routes 10.X.Y.0/24 via a gateway in the main table (plain or nexthop);
        udp:     flannel_udp_route_table_routes >= N on /metrics (polled every 5 ms).
      For vxlan and host-gw it subscribes to the netlink groups BEFORE creating R, so the
      script starts flanneld only once nothing can be missed, and it fails if such objects
      exist already (a previous run not cleaned up). F holds flanneld's PID (written by the
      script right after starting it); the probe fails when that process is gone.

  lease_scale_probe.py events --mode M --api v3|v2 --endpoint URL --prefix P --leases FILE
                              [--lease-id ID] [--metrics-url URL] [--timeout S]
      FILE: one "SUBNET PUBLIC_IP MAC" line per lease to add (none of them present yet).
      Adds them one at a time through etcd, then deletes them one at a time. Each figure runs
      from the moment the etcd write's HTTP response has been read to the moment the kernel
      object is complete (add) or gone (delete); below 0 when flanneld (which hears of the
      write through its etcd watch at the same time) was done before the response was read:
        vxlan:   the route, the neighbour AND the FDB entry of that lease (the latest of the
                 three netlink notifications, each stamped by a thread the moment it arrives);
        host-gw: its route;
                 (a route through a nexthop object is gone also when that object goes: the
                 kernel then drops the route without a notification of its own)
        udp:     flannel_udp_route_table_generation above its value before the write and
                 flannel_udp_route_table_routes one more (one fewer) than before; the time
                 is taken after the /metrics response that first shows it (polled in a
                 tight loop), so it is an upper bound by at most one scrape.
      Prints {"add_ms": [...], "del_ms": [...]} (udp also "scrape_ms_median"/"_max", how long
      one /metrics poll took).
"""
import argparse
import base64
import errno
import http.client
import json
import os
import queue
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse

AF_BRIDGE = 7
NETLINK_ROUTE = 0
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
RTM_NEWNEXTHOP, RTM_DELNEXTHOP, RTM_GETNEXTHOP = 104, 105, 106
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTMGRP_NEIGH, RTMGRP_IPV4_ROUTE = 0x4, 0x40
RTNLGRP_NEXTHOP = 32
RTA_DST, RTA_GATEWAY, RTA_TABLE, RTA_NH_ID = 1, 5, 15, 30
NDA_DST, NDA_LLADDR = 1, 2
NHA_ID, NHA_GATEWAY = 1, 6
NUD_PERMANENT = 0x80
RT_TABLE_MAIN = 254
SO_RCVBUFFORCE = 33


class ProbeError(Exception):
    pass


# --- rtnetlink ---------------------------------------------------------------------------


def attributes(body, offset):
    found = {}
    while offset + 4 <= len(body):
        length, kind = struct.unpack_from("=HH", body, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = body[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def messages(buffer):
    """(type, body) of each message in one netlink read."""
    offset = 0
    while offset + 16 <= len(buffer):
        length, kind, _, _, _ = struct.unpack_from("=IHHII", buffer, offset)
        if length < 16:
            break
        yield kind, buffer[offset + 16 : offset + length]
        offset += (length + 3) & ~3


class KernelState:
    """What flanneld puts into the kernel for other nodes, as keys with the time each appeared
    (and, once gone, the time it went):
      ("route", "10.X.Y.0/24", gateway)  a /24 inside 10/8 via a gateway, main table (with a
                                         nexthop object: the nexthop's gateway);
      ("neigh", "10.X.Y.0")              a permanent IPv4 neighbour inside 10/8;
      ("fdb", mac, remote)               an FDB entry with a remote (dst) address;
      ("nexthop", id)                    a nexthop object."""

    def __init__(self):
        self.present = {}
        self.gone = {}
        self.count = {"route": 0, "neigh": 0, "fdb": 0, "nexthop": 0}  # present, by kind
        self.nexthop_gateways = {}  # nexthop id -> its gateway (or None)
        self.routes_by_nexthop = {}  # nexthop id -> route keys through it

    def appear(self, key, stamp):
        if key not in self.present:
            self.present[key] = stamp
            self.count[key[0]] += 1
        self.gone.pop(key, None)

    def disappear(self, key, stamp):
        if key in self.present:
            del self.present[key]
            self.count[key[0]] -= 1
            self.gone[key] = stamp

    def apply(self, kind, body, stamp):
        if kind in (RTM_NEWROUTE, RTM_DELROUTE):
            self.route(kind == RTM_NEWROUTE, body, stamp)
        elif kind in (RTM_NEWNEIGH, RTM_DELNEIGH):
            self.neighbour(kind == RTM_NEWNEIGH, body, stamp)
        elif kind in (RTM_NEWNEXTHOP, RTM_DELNEXTHOP):
            self.nexthop(kind == RTM_NEWNEXTHOP, body, stamp)

    def route(self, added, body, stamp):
        family, dst_len, _, _, table = struct.unpack_from("=BBBBB", body, 0)
        if family != socket.AF_INET or dst_len != 24:
            return
        attrs = attributes(body, 12)
        if RTA_TABLE in attrs:
            table = struct.unpack("=I", attrs[RTA_TABLE])[0]
        dst = attrs.get(RTA_DST)
        nexthop = struct.unpack("=I", attrs[RTA_NH_ID])[0] if RTA_NH_ID in attrs else None
        if RTA_GATEWAY in attrs:
            gateway = socket.inet_ntoa(attrs[RTA_GATEWAY])
        else:  # net.ipv4.nexthop_compat_mode=0 leaves the gateway to the nexthop object
            gateway = self.nexthop_gateways.get(nexthop)
        if table != RT_TABLE_MAIN or dst is None or gateway is None or dst[0] != 10:
            return
        key = ("route", socket.inet_ntoa(dst) + "/24", gateway)
        if added:
            self.appear(key, stamp)
            if nexthop is not None:
                self.routes_by_nexthop.setdefault(nexthop, set()).add(key)
        else:
            self.disappear(key, stamp)
            self.routes_by_nexthop.get(nexthop, set()).discard(key)

    def neighbour(self, added, body, stamp):
        family, _, _, _, state, _, _ = struct.unpack_from("=BBHiHBB", body, 0)
        attrs = attributes(body, 12)
        dst, lladdr = attrs.get(NDA_DST), attrs.get(NDA_LLADDR)
        if family == socket.AF_INET and dst is not None and dst[0] == 10:
            key = ("neigh", socket.inet_ntoa(dst))
            # A neighbour being deleted is first reported as failed.
            (self.appear if added and state & NUD_PERMANENT else self.disappear)(key, stamp)
        elif family == AF_BRIDGE and dst is not None and len(dst) == 4 and lladdr and len(lladdr) == 6:
            key = ("fdb", ":".join(f"{b:02x}" for b in lladdr), socket.inet_ntoa(dst))
            (self.appear if added else self.disappear)(key, stamp)

    def nexthop(self, added, body, stamp):
        attrs = attributes(body, 8)  # struct nhmsg
        if NHA_ID not in attrs:
            return
        nexthop = struct.unpack("=I", attrs[NHA_ID])[0]
        key = ("nexthop", nexthop)
        if added:
            gateway = attrs.get(NHA_GATEWAY)
            self.nexthop_gateways[nexthop] = socket.inet_ntoa(gateway) if gateway and len(gateway) == 4 else None
            self.appear(key, stamp)
        else:
            self.nexthop_gateways.pop(nexthop, None)
            self.disappear(key, stamp)
            # The kernel drops the routes through a deleted nexthop without a RTM_DELROUTE.
            for route in self.routes_by_nexthop.pop(nexthop, set()):
                self.disappear(route, stamp)


def dump(stamp=0.0):
    """The kernel's current objects, as a KernelState."""
    state = KernelState()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        requests = [  # nexthops first: routes may need their gateways
            (RTM_GETNEXTHOP, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)),
            (RTM_GETROUTE, struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)),
            (RTM_GETNEIGH, struct.pack("=BBHiHBB", socket.AF_INET, 0, 0, 0, 0, 0, 0)),
            (RTM_GETNEIGH, struct.pack("=BBHiHBB", AF_BRIDGE, 0, 0, 0, 0, 0, 0)),
        ]
        for seq, (kind, body) in enumerate(requests, 1):
            header = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
            sock.send(header + body)
            done = False
            while not done:
                for reply, payload in messages(sock.recv(1 << 20)):
                    if reply == NLMSG_DONE:
                        done = True
                    elif reply == NLMSG_ERROR:
                        error = -struct.unpack_from("=i", payload, 0)[0]
                        if kind == RTM_GETNEXTHOP and error in (errno.EINVAL, errno.EOPNOTSUPP):
                            done = True  # a kernel without nexthop objects (< 5.3)
                        elif error:
                            raise ProbeError(f"netlink dump failed: {os.strerror(error)}")
                    else:
                        state.apply(reply, payload, stamp)
    return state


class KernelWatch(KernelState):
    """The kernel state kept current from notifications, each stamped with the time it was
    received. With threaded=True (timing single events) a thread blocks in recv, so a
    notification that arrives while the main thread waits for etcd's response is stamped
    then, not when the main thread gets to it. Without (sync: tens of thousands of
    notifications) the main thread reads and parses them itself, which costs far less CPU
    than handing each one over between threads (the probe shares the CPUs with flanneld)."""

    def __init__(self, threaded):
        super().__init__()
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        # 20,000 leases make 80,000 notifications within a second or two: a large buffer keeps
        # them (root may exceed rmem_max); an overflow anyway is healed by a fresh dump.
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 20)
        self.sock.bind((0, RTMGRP_IPV4_ROUTE | RTMGRP_NEIGH))
        try:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NEXTHOP)
        except OSError:
            pass  # a kernel without nexthop objects
        self.resync(0.0)
        self.overflows = 0
        self.last_stamp = 0.0  # when the last notification applied was received
        self.complete = None  # sync: counts -> done?, checked after each notification
        self.completed_at = None  # when the notification that made it true was received
        self.received = None
        self.pending = []  # without a thread: (stamp, data) read but not parsed yet
        if threaded:
            self.received = queue.Queue()
            # The receiving thread must get the interpreter soon after recv returns.
            sys.setswitchinterval(0.0001)
            threading.Thread(target=self.receive, daemon=True).start()

    def resync(self, stamp):
        current = dump(stamp)
        for key in list(self.present):
            if key not in current.present:
                self.disappear(key, stamp)
        for key in current.present:
            self.appear(key, stamp)
        self.nexthop_gateways = current.nexthop_gateways
        self.routes_by_nexthop = current.routes_by_nexthop

    def read(self, flags):
        """(stamp, data): data None after an overflow; raises BlockingIOError when empty."""
        try:
            data = self.sock.recv(1 << 16, flags)
        except OSError as error:
            if error.errno != errno.ENOBUFS:  # ENOBUFS: notifications were lost
                raise
            data = None
        return time.time(), data

    def receive(self):
        while True:
            try:
                batch = [self.read(0)]
                while True:
                    try:
                        batch.append(self.read(socket.MSG_DONTWAIT))
                    except BlockingIOError:
                        break
            except OSError as error:
                self.received.put([(time.time(), error)])
                return
            self.received.put(batch)

    def handle(self, stamp, data):
        self.last_stamp = stamp
        if isinstance(data, OSError):
            raise ProbeError(f"netlink: {data}")
        if data is None:
            self.overflows += 1
            self.resync(stamp)
        else:
            for kind, body in messages(data):
                self.apply(kind, body, stamp)
        if self.completed_at is None and self.complete is not None and self.complete(self.count):
            self.completed_at = stamp

    def poll(self, timeout):
        """Applies what has been received, waiting up to timeout seconds for the first."""
        if self.received is None:
            # While notifications keep coming they are only read and stamped (cheap); they
            # are parsed once the socket has been quiet for `timeout`, so that the probe
            # takes little CPU from flanneld during the burst.
            ready, _, _ = select.select([self.sock], [], [], timeout)
            while ready:
                try:
                    self.pending.append(self.read(socket.MSG_DONTWAIT))
                except BlockingIOError:
                    break
            if not ready or len(self.pending) > 200_000:
                for item in self.pending:
                    self.handle(*item)
                self.pending = []
            return
        try:
            batch = self.received.get(timeout=timeout) if timeout > 0 else self.received.get_nowait()
        except queue.Empty:
            return
        while True:
            for item in batch:
                self.handle(*item)
            try:
                batch = self.received.get_nowait()
            except queue.Empty:
                return


# --- /metrics ----------------------------------------------------------------------------


def gauges(url, names):
    """The named unlabelled gauges from /metrics, or None while flanneld does not answer."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
    try:
        connection.request("GET", parts.path or "/metrics")
        response = connection.getresponse()
        text = response.read().decode()
        if response.status != 200:
            return None
    except OSError:
        return None
    finally:
        connection.close()
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in names and name not in found:
            found[name] = float(value.split()[0])
    return found


ROUTES = "flannel_udp_route_table_routes"
GENERATION = "flannel_udp_route_table_generation"


# --- /proc -------------------------------------------------------------------------------


def process_figures(pid):
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    fields = text[text.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    figures = {"utime_s": int(fields[11]) / ticks, "stime_s": int(fields[12]) / ticks}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                figures["rss_kib"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                figures["hwm_kib"] = int(line.split()[1])
    return figures


def flanneld_pid(pid_file):
    try:
        with open(pid_file) as f:
            return int(f.read().strip() or 0) or None
    except FileNotFoundError:
        return None


def require_alive(pid):
    if pid is not None and not os.path.exists(f"/proc/{pid}"):
        raise ProbeError(f"flanneld (pid {pid}) is gone")


# --- sync --------------------------------------------------------------------------------


def sync(args):
    deadline = time.monotonic() + args.timeout
    watch = None
    if args.mode != "udp":
        watch = KernelWatch(threaded=False)
        watch.complete = lambda count: count["route"] >= args.count and (
            args.mode != "vxlan" or min(count["neigh"], count["fdb"]) >= args.count
        )
        if watch.present:
            sample = sorted(watch.present)[:3]
            raise ProbeError(f"{len(watch.present)} flannel objects in the kernel before start: {sample}")
    open(args.ready_file, "w").close()
    seen, answered, scrapes = {}, None, 0
    while True:
        pid = flanneld_pid(args.pid_file)
        if watch:
            watch.poll(0.005)
            seen = dict(watch.count)
            done = watch.completed_at is not None
        else:
            values = gauges(args.metrics_url, {ROUTES}) if pid else None
            seen = {"routes_gauge": (values or {}).get(ROUTES)}
            if values is not None and seen["routes_gauge"] is None:
                # /metrics answers without the gauge: a flanneld without it never syncs here.
                answered = answered or time.monotonic()
                if time.monotonic() - answered > 10:
                    raise ProbeError(f"{args.metrics_url} answers but has no {ROUTES} (a flanneld without it?)")
            done = seen["routes_gauge"] is not None and seen["routes_gauge"] >= args.count
            scrapes += 1
            if not done:
                # Each scrape costs flanneld CPU too: every 5 ms is the resolution here.
                time.sleep(0.005)
        if done and pid:
            # When the completing notification arrived, not when it was parsed (the probe
            # may lag behind a burst of 80,000 notifications).
            synced_at = watch.completed_at if watch else time.time()
            result = {"synced_at": synced_at, **process_figures(pid), **seen}
            own = os.times()
            result["probe_cpu_s"] = round(own.user + own.system, 2)
            if watch:
                result["overflows"] = watch.overflows
            else:
                result["scrapes"] = scrapes
            print(json.dumps(result))
            return
        require_alive(pid)
        if time.monotonic() > deadline:
            raise ProbeError(f"not synced after {args.timeout} s: {seen} of {args.count}")


# --- events ------------------------------------------------------------------------------


def lease_value(mode, api, public_ip, mac):
    """The value stock flanneld writes: HEAD's form through v3, v0.17's through v2."""
    value = {"PublicIP": public_ip}
    if api == "v3":
        value["PublicIPv6"] = None
    if mode == "vxlan":
        value.update(BackendType="vxlan", BackendData={"VNI": 1, "VtepMAC": mac})
    elif mode == "host-gw":
        value["BackendType"] = "host-gw"
        if api == "v3":
            value["BackendData"] = None
    return json.dumps(value, separators=(",", ":"))


class Etcd:
    def __init__(self, endpoint, api, prefix, lease_id):
        parts = urllib.parse.urlsplit(endpoint)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.api, self.prefix, self.lease_id = api, prefix, lease_id

    def request(self, method, path, body, content_type, expect):
        self.connection.request(method, path, body=body, headers={"Content-Type": content_type})
        response = self.connection.getresponse()
        text = response.read()
        if response.status not in expect:
            raise ProbeError(f"etcd {method} {path}: HTTP {response.status}: {text[:200]!r}")
        return text

    def put(self, subnet, value):
        key = f"{self.prefix}/subnets/{subnet.replace('/', '-')}"
        if self.api == "v3":
            body = {"key": b64(key), "value": b64(value)}
            if self.lease_id:
                body["lease"] = self.lease_id
            self.request("POST", "/v3/kv/put", json.dumps(body), "application/json", {200})
        else:
            form = urllib.parse.urlencode({"value": value, "ttl": "86400"})
            self.request("PUT", "/v2/keys" + key, form, "application/x-www-form-urlencoded", {200, 201})

    def delete(self, subnet):
        key = f"{self.prefix}/subnets/{subnet.replace('/', '-')}"
        if self.api == "v3":
            text = self.request("POST", "/v3/kv/deleterange", json.dumps({"key": b64(key)}), "application/json", {200})
            if json.loads(text).get("deleted") != "1":
                raise ProbeError(f"etcd v3: deleting {key} deleted nothing")
        else:
            self.request("DELETE", "/v2/keys" + key, None, "application/x-www-form-urlencoded", {200})


def b64(text):
    return base64.b64encode(text.encode()).decode()


def wanted_keys(mode, subnet, public_ip, mac):
    network = subnet.split("/")[0]
    if mode == "vxlan":
        return [("route", subnet, network), ("neigh", network), ("fdb", mac, public_ip)]
    return [("route", subnet, public_ip)]


def wait_kernel(watch, keys, adding, deadline, what):
    while True:
        table = watch.present if adding else watch.gone
        if all(key in table for key in keys):
            return max(table[key] for key in keys)
        if time.monotonic() > deadline:
            missing = [key for key in keys if key not in table]
            raise ProbeError(f"{what}: still {'missing' if adding else 'present'}: {missing}")
        watch.poll(0.05)


def wait_gauges(url, before, delta, deadline, what, scrapes):
    while True:
        asked = time.time()
        values = gauges(url, {ROUTES, GENERATION})
        now = time.time()
        scrapes.append(now - asked)
        if (
            values
            and values.get(GENERATION, -1) > before[GENERATION]
            and values.get(ROUTES) == before[ROUTES] + delta
        ):
            return now
        if time.monotonic() > deadline:
            raise ProbeError(f"{what}: /metrics shows {values}, before the write {before}")


def events(args):
    leases = [line.split() for line in open(args.leases) if line.strip()]
    etcd = Etcd(args.endpoint, args.api, args.prefix, args.lease_id)
    watch = KernelWatch(threaded=True) if args.mode != "udp" else None
    result = {"add_ms": [], "del_ms": []}
    scrapes = []  # udp: how long each /metrics poll took (the resolution of the figures)
    for adding in (True, False):
        for subnet, public_ip, mac in leases:
            what = f"{'adding' if adding else 'deleting'} {subnet}"
            before = None
            if watch:
                watch.poll(0)
                keys = wanted_keys(args.mode, subnet, public_ip, mac)
                for key in keys:
                    watch.gone.pop(key, None)
                stale = [key for key in keys if (key in watch.present) == adding]
                if stale:
                    raise ProbeError(f"{what}: kernel objects already {'there' if adding else 'gone'}: {stale}")
            else:
                before = gauges(args.metrics_url, {ROUTES, GENERATION})
                if not before or ROUTES not in before or GENERATION not in before:
                    raise ProbeError(f"{args.metrics_url} has no {ROUTES} / {GENERATION}: {before}")
            if adding:
                etcd.put(subnet, lease_value(args.mode, args.api, public_ip, mac))
            else:
                etcd.delete(subnet)
            responded = time.time()
            deadline = time.monotonic() + args.timeout
            if watch:
                done = wait_kernel(watch, keys, adding, deadline, what)
            else:
                done = wait_gauges(args.metrics_url, before, 1 if adding else -1, deadline, what, scrapes)
            result["add_ms" if adding else "del_ms"].append(round((done - responded) * 1000, 3))
    if scrapes:
        scrapes.sort()
        result["scrape_ms_median"] = round(scrapes[len(scrapes) // 2] * 1000, 3)
        result["scrape_ms_max"] = round(scrapes[-1] * 1000, 3)
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("sync")
    s.add_argument("--mode", choices=["vxlan", "host-gw", "udp"], required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--pid-file", required=True)
    s.add_argument("--ready-file", required=True)
    s.add_argument("--metrics-url")
    s.add_argument("--timeout", type=float, default=600)
    e = commands.add_parser("events")
    e.add_argument("--mode", choices=["vxlan", "host-gw", "udp"], required=True)
    e.add_argument("--api", choices=["v3", "v2"], required=True)
    e.add_argument("--endpoint", required=True)
    e.add_argument("--prefix", required=True)
    e.add_argument("--leases", required=True)
    e.add_argument("--lease-id")
    e.add_argument("--metrics-url")
    e.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    if args.mode == "udp" and not args.metrics_url:
        parser.error("--mode udp needs --metrics-url")
    try:
        (sync if args.command == "sync" else events)(args)
    except ProbeError as error:
        print(f"lease_scale_probe: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
