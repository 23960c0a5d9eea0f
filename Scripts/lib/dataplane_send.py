#!/usr/bin/env python3
"""Sends one hand-made datagram for Scripts/dataplane-lab.sh.

  dataplane_send.py BIND_IP BIND_PORT KIND TO_IP TO_PORT
KIND: valid | short | empty | ipv6 | badihl | ttl1 | big
"""
import socket
import struct
import sys


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(ttl=64, payload=b"x" * 12, src="10.1.2.2", dst="10.1.1.2"):
    udp = struct.pack("!HHHH", 9999, 9999, 8 + len(payload), 0) + payload
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, ttl, 17, 0,
                              socket.inet_aton(src), socket.inet_aton(dst)))
    h[10:12] = struct.pack("!H", checksum(bytes(h)))
    return bytes(h) + udp


KINDS = {
    "valid": lambda: ipv4(),
    "short": lambda: ipv4()[:5],
    "empty": lambda: b"",
    "ipv6": lambda: b"\x60" + b"\0" * 47,
    "badihl": lambda: b"\x44" + ipv4()[1:],
    "ttl1": lambda: ipv4(ttl=1),
    "big": lambda: ipv4(payload=b"y" * 1980),
}

bind_ip, bind_port, kind, to_ip, to_port = sys.argv[1:6]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((bind_ip, int(bind_port)))
s.sendto(KINDS[kind](), (to_ip, int(to_port)))
