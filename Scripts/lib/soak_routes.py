#!/usr/bin/env python3
"""Reads a udp-backend node's route snapshot off the wire, for Scripts/soak.sh.

  soak_routes.py IFACE PORT NETWORK_PREFIX SKIP_X   (e.g. eth0 7890 10.1 37)

Run in a host namespace: sends one small UDP datagram to NETWORK_PREFIX.X.5 for every X in
0..255 but SKIP_X (the node's own subnet, which is not behind flannel0), twice, and watches
IFACE for what the daemon sends to port PORT. Prints JSON {"10.1.X.0/24": "outer dst IP"}:
the subnets the daemon's table routes and the PublicIP each goes to. A subnet nobody holds
sends nothing (the daemon answers it with an ICMP error on flannel0).
"""
import json
import socket
import struct
import sys
import time

iface, port, network, skip = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ETH_P_ALL = 0x0003  # outgoing frames reach only ETH_P_ALL sockets, not ETH_P_IP ones
PACKET_OUTGOING = 4

sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sniffer.bind((iface, 0))
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

seen = {}


def drain(until):
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        sniffer.settimeout(left)
        try:
            frame, address = sniffer.recvfrom(65535)
        except socket.timeout:
            continue
        if address[2] != PACKET_OUTGOING or len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or len(ip) < ihl + 8 + 20:
            continue
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
        if dport != port:
            continue
        inner = ip[ihl + 8:]
        inner_dst = socket.inet_ntoa(inner[16:20])
        if not inner_dst.startswith(network + "."):
            continue
        x = int(inner_dst.split(".")[2])
        seen["%s.%d.0/24" % (network, x)] = socket.inet_ntoa(ip[16:20])


for _ in range(2):
    for x in range(256):
        if x == skip:
            continue
        try:
            sender.sendto(b"soak", ("%s.%d.5" % (network, x), 9))
        except OSError:
            pass  # an ICMP error from an earlier datagram surfacing: irrelevant here
        drain(time.monotonic() + 0.002)
drain(time.monotonic() + 1.0)
print(json.dumps(seen, sort_keys=True))
