#!/usr/bin/env python3
"""Checks for Scripts/dataplane-lab.sh, on pcap files written by tcpdump -w.

  wire TUN_PCAP UDP_PCAP SRC DST PORT [any-source-port]
       (any-source-port: datagrams to PORT from any source port count too — a sender with
       several workers sends from PORT and from ephemeral ports)
      Every UDP datagram SRC:PORT -> DST:PORT in UDP_PCAP must carry exactly a packet read
      from the TUN (TUN_PCAP) with TTL-1 and the header checksum patched; prints the count.
  inner UDP_PCAP SRC DST PORT MTU [any-source-port]
      Every UDP datagram SRC:PORT -> DST:PORT must carry one inner IPv4 packet of at most MTU
      bytes, its header and TCP/UDP checksums correct. A capture taken above a device that
      segments UDP GSO sends itself shows a GSO send whole: then it must be packets back to
      back, all as long as the first but the last (what the segmentation cuts into
      datagrams of one packet each). Prints "DATAGRAMS PACKETS TCP_PACKETS".
  icmp TUN_PCAP TUN_IP UNROUTED
      The TUN capture must hold a non-ICMP packet to UNROUTED and, coming back, the ICMP net
      unreachable stock flanneld builds for it (flannel-behaviour.md 4.6), byte for byte.
"""
import struct
import sys

from pcapfile import ipv4_packets


def packets(path):
    """The IPv4 packets of a capture, as captured."""
    return (packet for _, packet, _ in ipv4_packets(path))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(text):
    return bytes(int(x) for x in text.split("."))


def wire(tun_pcap, udp_pcap, src, dst, port, any_source_port=False):
    tun = set(p for p in packets(tun_pcap) if p and p[0] >> 4 == 4)
    matched = 0
    for p in packets(udp_pcap):
        ihl = (p[0] & 15) * 4
        if p[9] != 17 or p[12:16] != ip(src) or p[16:20] != ip(dst):
            continue
        sport, dport, ulen = struct.unpack("!HHH", p[ihl:ihl + 6])
        if dport != port or (sport != port and not any_source_port):
            continue
        inner = bytes(p[ihl + 8:ihl + ulen])
        if checksum(inner[:(inner[0] & 15) * 4]) != 0:
            sys.exit("inner header checksum invalid: " + inner.hex())
        original = bytearray(inner)
        original[8] += 1
        original[10:12] = b"\0\0"
        original[10:12] = struct.pack("!H", checksum(bytes(original[:(original[0] & 15) * 4])))
        if bytes(original) not in tun:
            sys.exit("datagram payload is not a TUN packet with TTL-1: " + inner.hex())
        matched += 1
    print(matched)


def l4_ok(inner):
    ihl = (inner[0] & 15) * 4
    proto = inner[9]
    if proto not in (6, 17):
        return True
    l4 = inner[ihl:]
    if proto == 17 and l4[6:8] == b"\0\0":
        return True
    pseudo = inner[12:20] + bytes([0, proto]) + struct.pack("!H", len(l4))
    return checksum(pseudo + l4) == 0


def inner(udp_pcap, src, dst, port, mtu, any_source_port=False):
    datagrams = count = tcp = 0
    for p in packets(udp_pcap):
        ihl = (p[0] & 15) * 4
        if p[9] != 17 or p[12:16] != ip(src) or p[16:20] != ip(dst):
            continue
        sport, dport = struct.unpack("!HH", p[ihl:ihl + 4])
        if dport != port or (sport != port and not any_source_port):
            continue
        datagrams += 1
        payload = bytes(p[ihl + 8:])
        first = None
        at = 0
        while at < len(payload):
            q = payload[at:]
            length = struct.unpack("!H", q[2:4])[0] if len(q) >= 20 else 0
            if q[0] >> 4 != 4 or length < 20 or length > len(q) or length > mtu:
                sys.exit("datagram %d: not one IPv4 packet of at most %d bytes: %s" % (datagrams, mtu, q[:40].hex()))
            packet = q[:length]
            if checksum(packet[:(packet[0] & 15) * 4]) != 0:
                sys.exit("datagram %d: inner header checksum invalid: %s" % (datagrams, packet[:40].hex()))
            if not l4_ok(packet):
                sys.exit("datagram %d: inner L4 checksum invalid: %s" % (datagrams, packet[:60].hex()))
            if first is not None and length > first:
                sys.exit("datagram %d: GSO send with a packet longer than the first" % datagrams)
            if first is None:
                first = length
            elif at + length < len(payload) and length != first:
                sys.exit("datagram %d: GSO send with unequal packets" % datagrams)
            count += 1
            tcp += packet[9] == 6
            at += length
    print(datagrams, count, tcp)


def icmp(tun_pcap, tun_ip, unrouted):
    captured = [bytes(p) for p in packets(tun_pcap) if p and p[0] >> 4 == 4]
    offenders = [p for p in captured if p[16:20] == ip(unrouted) and p[9] != 1]
    if not offenders:
        sys.exit("no packet to %s captured on the TUN" % unrouted)
    off = offenders[0]
    ihl = (off[0] & 15) * 4
    quoted = off[:ihl + 8]
    icmp_part = bytearray(b"\x03\x00\0\0\0\0\0\0" + quoted)
    icmp_part[2:4] = struct.pack("!H", checksum(bytes(icmp_part)))
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp_part), 0, 0, 8, 1, 0,
                                   ip(tun_ip), off[12:16]))
    header[10:12] = struct.pack("!H", checksum(bytes(header)))
    expected = bytes(header + icmp_part)
    if expected not in captured:
        replies = [p.hex() for p in captured if p[9] == 1]
        sys.exit("expected ICMP %s not captured; ICMP seen: %s" % (expected.hex(), replies))
    print(len(expected))


if __name__ == "__main__":
    if sys.argv[1] == "wire":
        wire(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]),
             sys.argv[7:] == ["any-source-port"])
    elif sys.argv[1] == "icmp":
        icmp(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (7, 8) and sys.argv[1] == "inner":
        inner(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
              sys.argv[7:] == ["any-source-port"])
    else:
        sys.exit("usage: see docstring")
