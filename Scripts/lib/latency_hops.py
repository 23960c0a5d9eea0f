#!/usr/bin/env python3
"""Where a ping's round trip goes, hop by hop, from tcpdump captures (nanosecond timestamps,
`tcpdump --time-stamp-precision=nano -w`) taken at the same time in one kernel's namespaces:

  latency_hops.py PORT C1 H1TUN H1ETH H2ETH H2TUN C2

C1, C2: the containers' eth0 (Ethernet); H1TUN, H2TUN: flannel0 on the hosts (raw IPv4);
H1ETH, H2ETH: the hosts' underlay eth0 (Ethernet), where the echo travels inside UDP datagrams
to or from PORT. Every echo request and reply is matched across the captures by (type, id,
sequence); a ping seen at every point gives one sample per hop. Prints per hop the median, p90
and p99 in microseconds, which hops are the forwarders' ("ours": TUN to UDP send, UDP receive
to TUN write) and which the kernel's, and their sums.
"""
import os
import statistics
import struct
import sys

from pcapfile import ipv4_packets

def echo_key(packet):
    """(type, id, sequence) of an ICMP echo request or reply, else None."""
    if len(packet) < 20 or packet[9] != 1:
        return None
    header = (packet[0] & 15) * 4
    icmp = packet[header:header + 8]
    if len(icmp) < 8 or icmp[0] not in (0, 8):
        return None
    return icmp[0], struct.unpack("!H", icmp[4:6])[0], struct.unpack("!H", icmp[6:8])[0]


def inner(packet, port):
    """The packet carried by a UDP datagram to or from `port`, else None."""
    if len(packet) < 20 or packet[9] != 17:
        return None
    header = (packet[0] & 15) * 4
    udp = packet[header:header + 8]
    if len(udp) < 8:
        return None
    source, destination = struct.unpack("!HH", udp[:4])
    if port not in (source, destination):
        return None
    return packet[header + 8:]


def first_seen(path, port=None):
    """key -> earliest timestamp of that echo in the capture."""
    seen = {}
    if os.path.getsize(path) < 24:  # tcpdump stopped before writing its file header
        return seen
    for stamp, packet, _ in ipv4_packets(path):
        if port is not None:
            packet = inner(packet, port)
            if packet is None:
                continue
        key = echo_key(packet)
        if key is not None and key not in seen:
            seen[key] = stamp
    return seen


def percentile(values, q):
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def main(argv):
    if len(argv) != 8:
        sys.stderr.write(__doc__)
        return 2
    port = int(argv[1])
    c1, h1tun, h1eth, h2eth, h2tun, c2 = argv[2:]
    points = {
        "c1": first_seen(c1), "h1tun": first_seen(h1tun), "h1eth": first_seen(h1eth, port),
        "h2eth": first_seen(h2eth, port), "h2tun": first_seen(h2tun), "c2": first_seen(c2),
    }
    # (name, from point, to point, echo type, whose)
    hops = [
        ("request: container 1 -> host 1 flannel0", "c1", "h1tun", 8, "kernel"),
        ("request: host 1 flannel0 -> UDP out", "h1tun", "h1eth", 8, "ours"),
        ("request: underlay host 1 -> host 2", "h1eth", "h2eth", 8, "kernel"),
        ("request: host 2 UDP in -> flannel0", "h2eth", "h2tun", 8, "ours"),
        ("request: host 2 flannel0 -> container 2", "h2tun", "c2", 8, "kernel"),
        ("container 2 answers", "c2", "c2", None, "kernel"),
        ("reply: container 2 -> host 2 flannel0", "c2", "h2tun", 0, "kernel"),
        ("reply: host 2 flannel0 -> UDP out", "h2tun", "h2eth", 0, "ours"),
        ("reply: underlay host 2 -> host 1", "h2eth", "h1eth", 0, "kernel"),
        ("reply: host 1 UDP in -> flannel0", "h1eth", "h1tun", 0, "ours"),
        ("reply: host 1 flannel0 -> container 1", "h1tun", "c1", 0, "kernel"),
    ]
    requests = [k for k in points["c1"] if k[0] == 8]
    samples = {name: [] for name, *_ in hops}
    totals, ours, kernel = [], [], []
    for _, ident, sequence in requests:
        request, reply = (8, ident, sequence), (0, ident, sequence)
        if not all(request in p and reply in p for p in points.values()):
            continue
        row = {}
        for name, start, end, kind, _ in hops:
            if kind is None:
                row[name] = points[end][reply] - points[start][request]
            else:
                key = request if kind == 8 else reply
                row[name] = points[end][key] - points[start][key]
        for name, value in row.items():
            samples[name].append(value / 1000)
        totals.append((points["c1"][reply] - points["c1"][request]) / 1000)
        ours.append(sum(row[n] for n, *_, w in hops if w == "ours") / 1000)
        kernel.append(sum(row[n] for n, *_, w in hops if w == "kernel") / 1000)
    if not totals:
        print("no echo was seen at every capture point")
        return 1
    print(f"{len(totals)} of {len(requests)} echoes seen at every point; microseconds")
    print(f"{'hop':44} {'whose':6} {'median':>8} {'p90':>8} {'p99':>8}")
    for name, *_, whose in hops:
        v = samples[name]
        print(f"{name:44} {whose:6} {statistics.median(v):8.1f} {percentile(v, 90):8.1f} "
              f"{percentile(v, 99):8.1f}")
    for name, v in (("forwarders' four hops (ours)", ours), ("kernel hops", kernel),
                    ("round trip at container 1's eth0", totals)):
        print(f"{name:51} {statistics.median(v):8.1f} {percentile(v, 90):8.1f} "
              f"{percentile(v, 99):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
