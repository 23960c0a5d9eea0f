#!/usr/bin/env python3
"""Checks EVERY udp-backend datagram of an underlay capture (tcpdump -w), for
Scripts/offload-check.sh. Whatever TUN offloads a node uses, the wire must look like stock
flanneld's: each datagram the payload of exactly one inner IPv4 packet.

  underlay_check.py check PCAP PORT MTU MIN
      Every UDP datagram from or to PORT must:
        - be whole (captured length == length on the wire) and not an outer IP fragment;
        - go to PORT (from PORT, as stock sends, or from another port: a node with several
          udp workers sends from one port per worker);
        - carry exactly one inner IPv4 packet: version 4, IHL 5, total length == UDP payload
          length, at most MTU bytes (external MTU - 28);
        - have a correct inner IPv4 header checksum;
        - have a correct inner TCP / UDP / ICMP checksum (UDP checksum 0 allowed; skipped for
          inner fragments, whose checksum covers bytes in other packets).
      Fails (exit 1, first offence printed) on any bad datagram, and when fewer than MIN
      datagrams were checked: a check that passes on an empty capture proves nothing.
      Prints "DATAGRAMS TCP UDP ICMP OTHER FRAGMENTS MAX_INNER_LENGTH".
  underlay_check.py send BIND_IP PORT TO_IP KIND
      Sends one bad datagram PORT -> TO_IP:PORT (KIND: two-packets | bad-tcp-checksum), so a
      live capture can prove that tcpdump's output reaches the checker and fails it.
  underlay_check.py self-test DIR
      Writes crafted captures into DIR and checks that `check` passes a good one and fails
      each broken one (two packets in a datagram, bad IPv4 / TCP / UDP checksum, oversized,
      IHL 6, total length != payload, truncated capture, too few datagrams), so CI proves
      the checker can fail.
"""
import array
import os
import socket
import struct
import sys

from pcapfile import PcapError, ipv4_packets


class Bad(Exception):
    pass


def frames(path):
    """(IPv4 packet as captured, its length on the wire) per record."""
    try:
        for _, packet, wire in ipv4_packets(path, strict=True):
            yield packet, wire
    except PcapError as error:
        raise Bad(str(error))


def checksum(data):
    """Internet checksum; 0 for data that carries a correct one."""
    if len(data) % 2:
        data += b"\0"
    words = array.array("H", data)
    s = sum(words)
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    s = (~s) & 0xFFFF
    # The sum ran in host byte order; the one's complement sum is order-independent up to a
    # final swap.
    return s if sys.byteorder == "big" else ((s & 0xFF) << 8) | (s >> 8)


def check_inner(inner, mtu):
    """Returns the inner protocol number and whether it is a fragment; raises Bad."""
    if len(inner) < 20:
        raise Bad("payload of %d bytes is shorter than an IPv4 header" % len(inner))
    if inner[0] >> 4 != 4:
        raise Bad("payload is not IPv4 (version %d)" % (inner[0] >> 4))
    if inner[0] & 15 != 5:
        raise Bad("inner IHL %d, not 5" % (inner[0] & 15))
    total = struct.unpack("!H", inner[2:4])[0]
    if total != len(inner):
        raise Bad("inner total length %d != payload length %d (not exactly one packet)" % (total, len(inner)))
    if total > mtu:
        raise Bad("inner packet of %d bytes > flannel MTU %d" % (total, mtu))
    if checksum(inner[:20]) != 0:
        raise Bad("inner IPv4 header checksum invalid")
    proto = inner[9]
    flags_offset = struct.unpack("!H", inner[6:8])[0]
    fragment = bool(flags_offset & 0x3FFF)  # MF or a fragment offset
    l4 = inner[20:]
    if fragment:
        return proto, True
    if proto == 6:
        if len(l4) < 20 or (l4[12] >> 4) * 4 < 20 or (l4[12] >> 4) * 4 > len(l4):
            raise Bad("inner TCP header malformed")
        pseudo = inner[12:20] + bytes([0, 6]) + struct.pack("!H", len(l4))
        if checksum(pseudo + l4) != 0:
            raise Bad("inner TCP checksum invalid")
    elif proto == 17:
        if len(l4) < 8 or struct.unpack("!H", l4[4:6])[0] != len(l4):
            raise Bad("inner UDP length does not match the packet")
        if l4[6:8] != b"\0\0":
            pseudo = inner[12:20] + bytes([0, 17]) + struct.pack("!H", len(l4))
            if checksum(pseudo + l4) != 0:
                raise Bad("inner UDP checksum invalid")
    elif proto == 1:
        if checksum(l4) != 0:
            raise Bad("inner ICMP checksum invalid")
    return proto, False


def check(path, port, mtu, minimum):
    counts = {6: 0, 17: 0, 1: 0}
    other = fragments = longest = datagrams = 0
    for number, (p, wirelen) in enumerate(frames(path), 1):
        if len(p) < 28 or p[0] >> 4 != 4 or p[9] != 17:
            continue
        ihl = (p[0] & 15) * 4
        sport, dport, ulen = struct.unpack("!HHH", p[ihl:ihl + 6])
        if port not in (sport, dport):
            continue
        datagrams += 1
        where = "record %d (datagram %d)" % (number, datagrams)
        try:
            if len(p) != wirelen:
                raise Bad("captured %d of %d bytes (a GSO send the device did not segment, or"
                          " a snap length too small)" % (len(p), wirelen))
            if struct.unpack("!H", p[6:8])[0] & 0x3FFF:
                raise Bad("outer datagram is an IP fragment")
            total = struct.unpack("!H", p[2:4])[0]
            if total != len(p) or ulen != total - ihl:
                raise Bad("outer lengths disagree: IP %d, UDP %d, captured %d" % (total, ulen, len(p)))
            if dport != port:
                raise Bad("ports %d -> %d, not to %d" % (sport, dport, port))
            proto, fragment = check_inner(bytes(p[ihl + 8:]), mtu)
        except Bad as e:
            raise Bad("%s: %s: %s" % (where, e, bytes(p[ihl + 8:ihl + 8 + 48]).hex()))
        if proto in counts:
            counts[proto] += 1
        else:
            other += 1
        fragments += fragment
        longest = max(longest, ulen - 8)
    if datagrams < minimum:
        raise Bad("only %d datagrams on port %d in %s, expected at least %d" % (datagrams, port, path, minimum))
    return "%d %d %d %d %d %d %d" % (datagrams, counts[6], counts[17], counts[1], other, fragments, longest)


# --- self-test ---------------------------------------------------------------------------------
def ipv4(proto, l4, src="10.1.1.2", dst="10.1.2.2", ident=1, flags_offset=0x4000):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, flags_offset, 63,
                              proto, 0, bytes(int(x) for x in src.split(".")),
                              bytes(int(x) for x in dst.split("."))))
    h[10:12] = struct.pack("!H", checksum(bytes(h)))
    return bytes(h)


def tcp_packet(data, seq=1):
    l4 = bytearray(struct.pack("!HHIIBBHHH", 40000, 5001, seq, 1, 5 << 4, 0x18, 65535, 0, 0) + data)
    pseudo = ipv4(6, l4)[12:20] + bytes([0, 6]) + struct.pack("!H", len(l4))
    l4[16:18] = struct.pack("!H", checksum(pseudo + bytes(l4)))
    return ipv4(6, l4) + bytes(l4)


def udp_packet(data, zero_checksum=False):
    l4 = bytearray(struct.pack("!HHHH", 40000, 5002, 8 + len(data), 0) + data)
    if not zero_checksum:
        pseudo = ipv4(17, l4)[12:20] + bytes([0, 17]) + struct.pack("!H", len(l4))
        l4[6:8] = struct.pack("!H", checksum(pseudo + bytes(l4)) or 0xFFFF)
    return ipv4(17, l4) + bytes(l4)


def flip(packet, at):
    b = bytearray(packet)
    b[at] ^= 0x01
    return bytes(b)


def frame(payload, sport=7890, dport=7890, snap=None):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    outer = ipv4(17, udp, "192.168.77.11", "192.168.77.12") + udp
    eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + outer
    return eth[:snap] if snap else eth, len(eth)


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, (data, wirelen) in enumerate(records):
            f.write(struct.pack("<IIII", i, 0, len(data), wirelen) + data)


def self_test(directory):
    good = [tcp_packet(b"a" * 1412), tcp_packet(b""), udp_packet(b"b" * 1400),
            udp_packet(b"c" * 16, zero_checksum=True),
            ipv4(17, b"d" * 1448, flags_offset=0x2000) + b"d" * 1448]  # a first fragment
    big = tcp_packet(b"e" * 1453)  # 1493 bytes: one packet, but over MTU 1472
    ihl6 = bytearray(tcp_packet(b"f" * 10))
    ihl6[0] = 0x46
    ihl6[10:12] = b"\0\0"
    ihl6[10:12] = struct.pack("!H", checksum(bytes(ihl6[:24])))
    cases = {
        "two packets in one datagram": ([frame(tcp_packet(b"g" * 600) + tcp_packet(b"h" * 600))],
                                        "not exactly one packet"),
        "bad inner IPv4 header checksum": ([frame(flip(tcp_packet(b"i" * 100), 10))],
                                           "IPv4 header checksum invalid"),
        "bad inner TCP checksum": ([frame(flip(tcp_packet(b"j" * 100), 60))], "TCP checksum invalid"),
        "bad inner UDP checksum": ([frame(flip(udp_packet(b"k" * 100), 40))], "UDP checksum invalid"),
        "oversized datagram": ([frame(big)], "> flannel MTU"),
        "IHL 6": ([frame(bytes(ihl6))], "IHL 6"),
        "total length below payload": ([frame(tcp_packet(b"l" * 100) + b"\0\0\0\0")],
                                       "not exactly one packet"),
        "truncated capture": ([frame(tcp_packet(b"m" * 1400), snap=200)], "captured 186 of"),
        "other port pair": ([frame(tcp_packet(b"n" * 10), dport=7891)], "not to 7890"),
    }
    good_records = [frame(p) for p in good]
    good_path = os.path.join(directory, "good.pcap")
    write_pcap(good_path, good_records * 4)
    failures = []
    try:
        print("self-test good capture: " + check(good_path, 7890, 1472, len(good) * 4))
    except Bad as e:
        failures.append("a good capture failed: %s" % e)
    try:
        check(good_path, 7890, 1472, len(good) * 4 + 1)
        failures.append("a capture with too few datagrams passed")
    except Bad as e:
        print("self-test too few datagrams: caught (%s)" % e)
    empty = os.path.join(directory, "empty.pcap")
    write_pcap(empty, [])
    try:
        check(empty, 7890, 1472, 1)
        failures.append("an empty capture passed")
    except Bad as e:
        print("self-test empty capture: caught (%s)" % e)
    for name, (records, reason) in cases.items():
        path = os.path.join(directory, name.replace(" ", "-") + ".pcap")
        # The bad datagram hides among good ones, so a checker that looks at a sample misses it.
        write_pcap(path, good_records + records + good_records)
        try:
            check(path, 7890, 1472, 1)
            failures.append("%s: passed" % name)
        except Bad as e:
            if reason not in str(e):
                failures.append("%s: failed for another reason: %s" % (name, e))
            else:
                print("self-test %s: caught (%s)" % (name, str(e)[:110]))
    if failures:
        raise Bad("; ".join(failures))


def send_bad(bind_ip, port, to_ip, kind):
    payload = {
        "two-packets": lambda: tcp_packet(b"g" * 600) + tcp_packet(b"h" * 600),
        "bad-tcp-checksum": lambda: flip(tcp_packet(b"j" * 100), 60),
    }[kind]()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_ip, port))
    s.sendto(payload, (to_ip, port))


if __name__ == "__main__":
    try:
        if len(sys.argv) == 6 and sys.argv[1] == "check":
            print(check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
        elif len(sys.argv) == 6 and sys.argv[1] == "send":
            send_bad(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        elif len(sys.argv) == 3 and sys.argv[1] == "self-test":
            self_test(sys.argv[2])
        else:
            sys.exit(__doc__)
    except Bad as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
