"""Inner packets built by hand, good and broken, for underlay_check.py's self-test and its live
bad datagrams: IPv4 or IPv6 (family 4 or 6) between two lab containers, with correct
checksums unless a test breaks them afterwards."""
import struct

from inner_packet import checksum

SOURCE = {4: bytes([10, 1, 1, 2]), 6: bytes.fromhex("fd100000000000010000000000000002")}
DESTINATION = {4: bytes([10, 1, 2, 2]), 6: bytes.fromhex("fd100000000000020000000000000002")}


def ipv4(proto, l4, ident=1, flags_offset=0x4000):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, flags_offset, 63,
                              proto, 0, SOURCE[4], DESTINATION[4]))
    h[10:12] = struct.pack("!H", checksum(bytes(h)))
    return bytes(h) + l4


def ipv6(next_header, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), next_header, 63) + SOURCE[6] + DESTINATION[6] + payload


def ip(family, proto, l4):
    return ipv4(proto, l4) if family == 4 else ipv6(proto, l4)


def pseudo_header(family, proto, length):
    if family == 4:
        return SOURCE[4] + DESTINATION[4] + bytes([0, proto]) + struct.pack("!H", length)
    return SOURCE[6] + DESTINATION[6] + struct.pack("!I", length) + bytes([0, 0, 0, proto])


def tcp_packet(data, seq=1, family=4):
    l4 = bytearray(struct.pack("!HHIIBBHHH", 40000, 5001, seq, 1, 5 << 4, 0x18, 65535, 0, 0) + data)
    l4[16:18] = struct.pack("!H", checksum(pseudo_header(family, 6, len(l4)) + bytes(l4)))
    return ip(family, 6, bytes(l4))


def udp_packet(data, zero_checksum=False, family=4):
    l4 = bytearray(struct.pack("!HHHH", 40000, 5002, 8 + len(data), 0) + data)
    if not zero_checksum:
        l4[6:8] = struct.pack("!H", checksum(pseudo_header(family, 17, len(l4)) + bytes(l4)) or 0xFFFF)
    return ip(family, 17, bytes(l4))


def icmpv6_echo(data):
    l4 = bytearray(struct.pack("!BBHHH", 128, 0, 0, 1, 1) + data)
    l4[2:4] = struct.pack("!H", checksum(pseudo_header(6, 58, len(l4)) + bytes(l4)))
    return ipv6(58, bytes(l4))


def ipv6_fragment(next_header, offset, more, data, ident=7, reserved=0):
    """An IPv6 packet with a fragment header: `data` from byte `offset` of the fragmentable
    part (a multiple of 8), `more` for all but the last."""
    return ipv6(44, struct.pack("!BBHI", next_header, reserved, offset | more, ident) + data)


def fragments(family, proto, l4, ident=7):
    """`l4` (a whole UDP or ICMP message with its checksum) cut as the kernel cuts it for the
    flannel MTU of 1472: 1448 (IPv4) or 1424 (IPv6) bytes per fragment but the last."""
    size = fragment_size(family)
    return [fragment_at(family, proto, offset, offset + size < len(l4), l4[offset:offset + size], ident)
            for offset in range(0, len(l4), size)]


def fragment_size(family):
    return 1448 if family == 4 else 1424


def fragment_at(family, proto, offset, more, data, ident):
    """One fragment: `data` from byte `offset` (a multiple of 8) of a packet's fragmentable part."""
    if family == 4:
        return ipv4(proto, data, ident=ident, flags_offset=(0x2000 if more else 0) | offset // 8)
    return ipv6_fragment(proto, offset, int(more), data, ident=ident)


def flip(packet, at):
    b = bytearray(packet)
    b[at] ^= 0x01
    return bytes(b)


def two_packets(family):
    return tcp_packet(b"g" * 600, family=family) + tcp_packet(b"h" * 600, family=family)


def bad_tcp_checksum(family):
    # A byte of the payload: past both headers in either family.
    return flip(tcp_packet(b"j" * 100, family=family), 80)
