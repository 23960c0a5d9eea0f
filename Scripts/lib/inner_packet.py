"""Validation of ONE inner packet as the udp backend carries it in a datagram's payload, for
underlay_check.py: an IPv4 or an IPv6 packet that fills the payload exactly, at most the
flannel MTU, with correct checksums. Pure functions; a bad packet raises Bad with the reason.

Both return (protocol, fragment): the L4 protocol number (IPv6: after the extension headers)
and, for a fragment, a Fragment: its header is checked at once, its L4 checksum covers bytes
in other packets, so Reassembly checks it once all of the packet's fragments are in."""
import array
import collections
import struct
import sys

TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
# IPv6 extension headers that may precede the fragment header or the upper layer
# (hop-by-hop options, routing, destination options), and the fragment header itself.
HOP_BY_HOP, ROUTING, DESTINATION_OPTIONS, FRAGMENT = 0, 43, 60, 44


class Bad(Exception):
    pass


# key: (source, destination, protocol, ID) for IPv4, (source, destination, identification) for
# IPv6; offset and data: the fragment's place and bytes in the fragmentable part; upper_skip:
# in the first fragment, the extension headers before the upper-layer header in that part.
Fragment = collections.namedtuple("Fragment", "key offset more data upper_skip")


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


def check_l4(proto, l4, pseudo, family):
    """TCP / UDP / ICMP(v6) of a whole (not fragmented) packet; pseudo: its pseudo-header
    (empty for ICMP over IPv4, which has none)."""
    if proto == TCP:
        if len(l4) < 20 or (l4[12] >> 4) * 4 < 20 or (l4[12] >> 4) * 4 > len(l4):
            raise Bad("inner TCP header malformed")
        if checksum(pseudo + l4) != 0:
            raise Bad("inner TCP checksum invalid")
    elif proto == UDP:
        if len(l4) < 8 or struct.unpack("!H", l4[4:6])[0] != len(l4):
            raise Bad("inner UDP length does not match the packet")
        if l4[6:8] == b"\0\0":
            # IPv4: "no checksum". IPv6 has no such thing (RFC 8200 8.1): receivers drop it.
            if family == 6:
                raise Bad("inner UDP checksum 0 over IPv6")
        elif checksum(pseudo + l4) != 0:
            raise Bad("inner UDP checksum invalid")
    elif proto == ICMP and family == 4:
        if checksum(l4) != 0:
            raise Bad("inner ICMP checksum invalid")
    elif proto == ICMPV6 and family == 6:
        if len(l4) < 4:
            raise Bad("inner ICMPv6 message of %d bytes" % len(l4))
        if checksum(pseudo + l4) != 0:
            raise Bad("inner ICMPv6 checksum invalid")


def check_ipv4(inner, mtu):
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
    l4 = inner[20:]
    if flags_offset & 0x3FFF:  # MF or a fragment offset
        more, offset = flags_offset & 0x2000, (flags_offset & 0x1FFF) * 8
        if more and (not l4 or len(l4) % 8):
            raise Bad("inner IPv4 fragment (not the last) with %d data bytes, not a multiple of 8" % len(l4))
        return proto, Fragment((bytes(inner[12:16]), bytes(inner[16:20]), proto, inner[4:6]), offset, more, l4, 0)
    check_l4(proto, l4, pseudo_header(4, inner[12:16], inner[16:20], proto, len(l4)), 4)
    return proto, None


def pseudo_header(family, source, destination, proto, length):
    if family == 4:
        return source + destination + bytes([0, proto]) + struct.pack("!H", length)
    return source + destination + struct.pack("!I", length) + bytes([0, 0, 0, proto])


def check_fragment_header(inner, at):
    """The fragment header at `at` (8 bytes; the fragment's data follows it to the end):
    consistent as the kernel writes it. Returns (next header, offset in bytes, more)."""
    if at + 8 > len(inner):
        raise Bad("inner IPv6 fragment header truncated")
    nh, reserved, offset_flags = struct.unpack("!BBH", inner[at:at + 4])
    offset, more = offset_flags & 0xFFF8, offset_flags & 1
    data = len(inner) - at - 8
    if reserved or offset_flags & 6:
        raise Bad("inner IPv6 fragment header with reserved bits set")
    if more and (data == 0 or data % 8):
        raise Bad("inner IPv6 fragment (not the last) with %d data bytes, not a multiple of 8" % data)
    if offset + data > 65535:
        raise Bad("inner IPv6 fragment reaches byte %d, past 65535" % (offset + data))
    if nh == FRAGMENT:
        raise Bad("inner IPv6 fragment of a fragment")
    return nh, offset, more


def check_ipv6(inner, mtu):
    if len(inner) < 40:
        raise Bad("payload of %d bytes is shorter than an IPv6 header" % len(inner))
    if inner[0] >> 4 != 6:
        raise Bad("payload is not IPv6 (version %d)" % (inner[0] >> 4))
    payload = struct.unpack("!H", inner[4:6])[0]
    if payload + 40 != len(inner):
        raise Bad("inner IPv6 payload length %d != datagram payload - 40 = %d (not exactly one packet)"
                  % (payload, len(inner) - 40))
    if len(inner) > mtu:
        raise Bad("inner packet of %d bytes > flannel MTU %d" % (len(inner), mtu))
    if inner[7] == 0:
        raise Bad("inner IPv6 hop limit 0")
    nh, at = inner[6], 40
    fragment = None
    while nh in (HOP_BY_HOP, ROUTING, DESTINATION_OPTIONS, FRAGMENT):
        if nh == FRAGMENT:
            key = (bytes(inner[8:24]), bytes(inner[24:40]), inner[at + 4:at + 8])
            nh, offset, more = check_fragment_header(inner, at)
            at += 8
            if offset:  # the rest is data from the middle of the packet
                return nh, Fragment(key, offset, more, inner[at:], 0)
            if more:  # upper_skip for now: where the fragmentable part starts
                fragment = Fragment(key, 0, more, inner[at:], at)
        else:
            if at + 8 > len(inner) or at + (inner[at + 1] + 1) * 8 > len(inner):
                raise Bad("inner IPv6 extension header %d truncated" % nh)
            nh, at = inner[at], at + (inner[at + 1] + 1) * 8
    l4 = inner[at:]
    if fragment:
        # It starts with the whole upper-layer header (RFC 7112); a UDP one announces more
        # bytes than it carries.
        if nh == UDP and (len(l4) < 8 or struct.unpack("!H", l4[4:6])[0] <= len(l4)):
            raise Bad("inner IPv6 first fragment: UDP header missing or its length %s not past the fragment"
                      % (struct.unpack("!H", l4[4:6])[0] if len(l4) >= 8 else "?"))
        if nh == TCP and len(l4) < 20:
            raise Bad("inner IPv6 first fragment without the whole TCP header")
        return nh, fragment._replace(upper_skip=at - fragment.upper_skip)
    check_l4(nh, l4, pseudo_header(6, inner[8:24], inner[24:40], nh, len(l4)), 6)
    return nh, None


def check_inner(inner, mtu, family):
    """(protocol, Fragment or None) of the one packet of `family` (4 or 6) that `inner` must
    be."""
    return check_ipv4(inner, mtu) if family == 4 else check_ipv6(inner, mtu)


class Reassembly:
    """The fragments of one capture, by packet: once a packet's are all in (the last one and
    no gap from 0), they must fit together (no overlap, no duplicate) and the whole packet's
    L4 checksum must be right. `finish` fails on packets still missing a fragment."""

    def __init__(self, family):
        self.family = family
        self.pending = {}  # key -> {offset: Fragment}
        self.protocols = {}  # key -> the first fragment's protocol
        self.reassembled = 0

    def add(self, proto, fragment):
        pieces = self.pending.setdefault(fragment.key, {})
        if fragment.offset in pieces:
            raise Bad("two inner fragments at offset %d of one packet" % fragment.offset)
        pieces[fragment.offset] = fragment
        if fragment.offset == 0:
            self.protocols[fragment.key] = proto
        if 0 not in pieces or all(piece.more for piece in pieces.values()):
            return
        ordered = sorted(pieces.values(), key=lambda piece: piece.offset)
        whole, position = b"", 0
        for piece in ordered:
            if piece.offset > position:
                return  # a gap: not all in yet
            # Each but the last says more follow; none overlaps the one before.
            if piece.offset < position or bool(piece.more) == (piece is ordered[-1]):
                raise Bad("inner fragments of one packet overlap or go past its last one")
            whole += bytes(piece.data)
            position += len(piece.data)
        del self.pending[fragment.key]
        proto = self.protocols.pop(fragment.key)
        l4 = whole[pieces[0].upper_skip:]
        source, destination = fragment.key[0], fragment.key[1]
        try:
            check_l4(proto, l4, pseudo_header(self.family, source, destination, proto, len(l4)), self.family)
        except Bad as e:
            raise Bad("reassembled from %d fragments: %s" % (len(ordered), e))
        self.reassembled += 1

    def finish(self):
        if self.pending:
            raise Bad("%d fragmented inner packets lack fragments at the end of the capture" % len(self.pending))
