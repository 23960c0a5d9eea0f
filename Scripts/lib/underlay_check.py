#!/usr/bin/env python3
"""Checks EVERY udp-backend datagram of an underlay capture (tcpdump -w), for
Scripts/offload-check.sh. Whatever TUN offloads a node uses, the wire must look like stock
flanneld's: each datagram the payload of exactly one inner IPv4 (or, on a dual-stack network,
IPv6) packet. The inner packet's checks are inner_packet.py's.

  underlay_check.py check PCAP PORT MTU MIN [FAMILY]
      Every UDP datagram from or to PORT must:
        - be whole (captured length == length on the wire) and not an outer IP fragment;
        - go to PORT (from PORT, as stock sends, or from another port: a node with several
          udp workers sends from one port per worker);
        - FAMILY 4 (default): carry exactly one inner IPv4 packet: version 4, IHL 5, total
          length == UDP payload length, at most MTU bytes (external MTU - 28), a correct
          header checksum;
        - FAMILY 6: carry exactly one inner IPv6 packet: version 6, payload length == UDP
          payload length - 40, at most MTU bytes, hop limit not 0; a fragment header
          consistent (reserved bits 0, all but the last fragment a multiple of 8 bytes, a
          first fragment holding the whole upper-layer header);
        - have a correct inner TCP / UDP / ICMP(v6) checksum with the family's pseudo-header
          (UDP checksum 0 allowed over IPv4 only); a fragment's is checked on the packet
          reassembled from all its fragments, which must fit together (no overlap, no
          duplicate) and all be in the capture.
      Fails (exit 1, first offence printed) on any bad datagram, and when fewer than MIN
      datagrams were checked: a check that passes on an empty capture proves nothing.
      Prints "DATAGRAMS TCP UDP ICMP OTHER FRAGMENTS MAX_INNER_LENGTH REASSEMBLED" (ICMP:
      ICMPv6 for 6; REASSEMBLED: the packets the fragments made up).
  underlay_check.py send BIND_IP PORT TO_IP KIND
      Sends one bad datagram PORT -> TO_IP:PORT (KIND: two-packets | bad-tcp-checksum, with
      IPv6 inside: two-packets6 | bad-tcp-checksum6), so a live capture can prove that
      tcpdump's output reaches the checker and fails it.
  underlay_check.py self-test DIR
      Writes crafted captures into DIR and checks that `check` passes a good one per family
      and fails each broken one: IPv4 (two packets in a datagram, bad IPv4 / TCP / UDP
      checksum, oversized, IHL 6, total length != payload, an IPv6 packet), IPv6 (two
      packets, payload length past or short of the datagram, bad TCP / UDP / ICMPv6
      checksum, UDP checksum 0, an IPv4 pseudo-header, oversized, inconsistent fragment
      headers, an IPv4 packet), fragments (a data byte flipped, one missing, one twice,
      overlapping) and for both a truncated capture, another port, too few datagrams, so CI
      proves the checker can fail.
"""
import os
import socket
import struct
import sys

from crafted_packets import (bad_tcp_checksum, flip, fragment_at, fragment_size, fragments, icmpv6_echo,
                             ipv6, ipv6_fragment, tcp_packet, two_packets, udp_packet)
from inner_packet import Bad, Reassembly, check_inner, checksum
from pcapfile import PcapError, ipv4_packets


def frames(path):
    """(IPv4 packet as captured, its length on the wire) per record."""
    try:
        for _, packet, wire in ipv4_packets(path, strict=True):
            yield packet, wire
    except PcapError as error:
        raise Bad(str(error))


def check(path, port, mtu, minimum, family=4):
    counts = {6: 0, 17: 0, 1: 0, 58: 0}
    other = fragments = longest = datagrams = 0
    reassembly = Reassembly(family)
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
            proto, fragment = check_inner(bytes(p[ihl + 8:]), mtu, family)
            if fragment:
                reassembly.add(proto, fragment)
        except Bad as e:
            raise Bad("%s: %s: %s" % (where, e, bytes(p[ihl + 8:ihl + 8 + 64]).hex()))
        if proto in counts:
            counts[proto] += 1
        else:
            other += 1
        fragments += fragment is not None
        longest = max(longest, ulen - 8)
    if datagrams < minimum:
        raise Bad("only %d datagrams on port %d in %s, expected at least %d" % (datagrams, port, path, minimum))
    reassembly.finish()
    icmp = counts[1] if family == 4 else counts[58]
    return "%d %d %d %d %d %d %d %d" % (datagrams, counts[6], counts[17], icmp, other, fragments, longest,
                                        reassembly.reassembled)


# --- self-test ---------------------------------------------------------------------------------
def frame(payload, sport=7890, dport=7890, snap=None):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    outer = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 1, 0x4000, 64, 17, 0,
                                  bytes([192, 168, 77, 11]), bytes([192, 168, 77, 12])))
    outer[10:12] = struct.pack("!H", checksum(bytes(outer)))
    eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + bytes(outer) + udp
    return eth[:snap] if snap else eth, len(eth)


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, (data, wirelen) in enumerate(records):
            f.write(struct.pack("<IIII", i, 0, len(data), wirelen) + data)


def ipv4_cases():
    """Good IPv4 packets, {name: (a bad datagram's payload, the reason the check must give)}
    and the bad fragment cases."""
    good = [tcp_packet(b"a" * 1412), tcp_packet(b""), udp_packet(b"b" * 1400),
            udp_packet(b"c" * 16, zero_checksum=True)]
    good += fragments(4, 17, udp_packet(b"d" * 2992)[20:])  # 3 fragments, checked together
    ihl6 = bytearray(tcp_packet(b"f" * 10))
    ihl6[0] = 0x46
    ihl6[10:12] = b"\0\0"
    ihl6[10:12] = struct.pack("!H", checksum(bytes(ihl6[:24])))
    return good, {
        "two packets in one datagram": (two_packets(4), "not exactly one packet"),
        "bad inner IPv4 header checksum": (flip(tcp_packet(b"i" * 100), 10), "IPv4 header checksum invalid"),
        "bad inner TCP checksum": (bad_tcp_checksum(4), "TCP checksum invalid"),
        "bad inner UDP checksum": (flip(udp_packet(b"k" * 100), 40), "UDP checksum invalid"),
        # 1493 bytes: one packet, but over MTU 1472.
        "oversized datagram": (tcp_packet(b"e" * 1453), "> flannel MTU"),
        "IHL 6": (bytes(ihl6), "IHL 6"),
        "total length below payload": (tcp_packet(b"l" * 100) + b"\0\0\0\0", "not exactly one packet"),
        "an IPv6 packet": (tcp_packet(b"o" * 100, family=6), "not IPv4"),
    }, fragment_cases(4)


def fragment_cases(family):
    """{name: (bad fragments of one packet, the reason)}: each fragment fine on its own."""
    l4 = udp_packet(b"x" * 4992, family=family)[20 if family == 4 else 40:]
    whole = fragments(family, 17, l4, ident=9)
    corrupt = list(whole)
    corrupt[1] = flip(corrupt[1], 100)  # a data byte of the middle fragment
    # A fragment's worth of bytes 8 bytes before the second fragment, overlapping the first.
    size = fragment_size(family)
    overlap = fragment_at(family, 17, size - 8, True, l4[size - 8:2 * size - 8], ident=9)
    return {
        "reassembled packet with a bad UDP checksum": (corrupt, "reassembled from 4 fragments: inner UDP checksum invalid"),
        "a fragment missing": (whole[:1] + whole[2:], "lack fragments"),
        "a fragment twice": (whole[:2] + whole[1:], "two inner fragments at offset"),
        "overlapping fragments": (whole[:-1] + [overlap] + whole[-1:], "overlap"),
    }


def ipv6_cases():
    """The same for IPv6: MTU-filling TCP and UDP, ICMPv6, an atomic fragment and the
    fragments of an 8000-byte UDP datagram as the kernel cuts it."""
    udp8000 = udp_packet(b"p" * 7992, family=6)[40:]  # the fragmentable part: UDP header + data
    wrong_length = bytearray(tcp_packet(b"q" * 100, family=6))
    wrong_length[5] += 4  # payload length 4 past the datagram
    short_length = bytearray(tcp_packet(b"q" * 100, family=6) + b"\0" * 8)  # 8 bytes after it
    uneven = ipv6_fragment(17, 0, 1, udp8000[:1420])  # not a multiple of 8, more follow
    good = [tcp_packet(b"a" * 1412, family=6), tcp_packet(b"", family=6),
            udp_packet(b"b" * 1424, family=6), udp_packet(b"", family=6), icmpv6_echo(b"c" * 56),
            ipv6_fragment(58, 0, 0, icmpv6_echo(b"r" * 8)[40:])]  # atomic: checked whole
    good += fragments(6, 17, udp8000)  # 6 fragments, checked together
    return good, {
        "two IPv6 packets in one datagram": (two_packets(6), "not exactly one packet"),
        "IPv6 payload length past the datagram": (bytes(wrong_length), "not exactly one packet"),
        "IPv6 payload length short of the datagram": (bytes(short_length), "not exactly one packet"),
        "bad inner TCP checksum over IPv6": (bad_tcp_checksum(6), "TCP checksum invalid"),
        "bad inner UDP checksum over IPv6": (flip(udp_packet(b"k" * 100, family=6), 60), "UDP checksum invalid"),
        "UDP checksum 0 over IPv6": (udp_packet(b"k" * 100, zero_checksum=True, family=6), "checksum 0 over IPv6"),
        "bad inner ICMPv6 checksum": (flip(icmpv6_echo(b"s" * 56), 60), "ICMPv6 checksum invalid"),
        "bad checksum in an atomic fragment": (
            flip(ipv6_fragment(17, 0, 0, udp_packet(b"t" * 64, family=6)[40:]), 70), "UDP checksum invalid"),
        # IPv4's TCP checksum with IPv6's header: the pseudo-header must be IPv6's.
        "IPv4 pseudo-header over IPv6": (ipv6(6, tcp_packet(b"u" * 100)[20:]), "TCP checksum invalid"),
        "oversized IPv6 datagram": (tcp_packet(b"e" * 1413, family=6), "> flannel MTU"),
        "fragment of uneven length": (uneven, "not a multiple of 8"),
        "fragment with reserved bits": (ipv6_fragment(17, 0, 1, udp8000[:1424], reserved=1), "reserved bits"),
        "first fragment with a whole UDP length": (
            ipv6_fragment(17, 0, 1, udp_packet(b"v" * 1000, family=6)[40:1048]), "not past the fragment"),
        "an IPv4 packet": (tcp_packet(b"w" * 100), "not IPv6"),
    }, fragment_cases(6)


def self_test_family(directory, family, failures):
    good, bad, fragmented = ipv4_cases() if family == 4 else ipv6_cases()
    cases = {name: ([frame(payload)], reason) for name, (payload, reason) in bad.items()}
    cases.update({name: ([frame(p) for p in payloads], reason) for name, (payloads, reason) in fragmented.items()})
    cases["truncated capture"] = ([frame(tcp_packet(b"m" * 1400, family=family), snap=200)], "captured 186 of")
    cases["other port pair"] = ([frame(tcp_packet(b"n" * 10, family=family), dport=7891)], "not to 7890")
    good_records = [frame(p) for p in good]
    good_path = os.path.join(directory, "good%d.pcap" % family)
    write_pcap(good_path, good_records * 4)
    try:
        print("self-test IPv%d good capture: %s" % (family, check(good_path, 7890, 1472, len(good) * 4, family)))
    except Bad as e:
        failures.append("a good IPv%d capture failed: %s" % (family, e))
    try:
        check(good_path, 7890, 1472, len(good) * 4 + 1, family)
        failures.append("an IPv%d capture with too few datagrams passed" % family)
    except Bad as e:
        print("self-test IPv%d too few datagrams: caught (%s)" % (family, e))
    for name, (records, reason) in cases.items():
        path = os.path.join(directory, "v%d-%s.pcap" % (family, name.replace(" ", "-")))
        # The bad datagrams hide among good ones, so a checker that looks at a sample misses them.
        write_pcap(path, good_records + records + good_records)
        try:
            check(path, 7890, 1472, 1, family)
            failures.append("IPv%d %s: passed" % (family, name))
        except Bad as e:
            if reason not in str(e):
                failures.append("IPv%d %s: failed for another reason: %s" % (family, name, e))
            else:
                print("self-test IPv%d %s: caught (%s)" % (family, name, str(e)[:110]))


def self_test(directory):
    failures = []
    empty = os.path.join(directory, "empty.pcap")
    write_pcap(empty, [])
    try:
        check(empty, 7890, 1472, 1)
        failures.append("an empty capture passed")
    except Bad as e:
        print("self-test empty capture: caught (%s)" % e)
    for family in (4, 6):
        self_test_family(directory, family, failures)
    if failures:
        raise Bad("; ".join(failures))


def send_bad(bind_ip, port, to_ip, kind):
    payload = {
        "two-packets": lambda: two_packets(4),
        "bad-tcp-checksum": lambda: bad_tcp_checksum(4),
        "two-packets6": lambda: two_packets(6),
        "bad-tcp-checksum6": lambda: bad_tcp_checksum(6),
    }[kind]()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_ip, port))
    s.sendto(payload, (to_ip, port))


if __name__ == "__main__":
    try:
        if len(sys.argv) in (6, 7) and sys.argv[1] == "check":
            family = int(sys.argv[6]) if len(sys.argv) == 7 else 4
            if family not in (4, 6):
                sys.exit("FAMILY is 4 or 6, not %s" % sys.argv[6])
            print(check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), family))
        elif len(sys.argv) == 6 and sys.argv[1] == "send":
            send_bad(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        elif len(sys.argv) == 3 and sys.argv[1] == "self-test":
            self_test(sys.argv[2])
        else:
            sys.exit(__doc__)
    except Bad as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
