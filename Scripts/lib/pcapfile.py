"""Reads the pcap files tcpdump -w writes (either byte order, microsecond or nanosecond
timestamps) for the lab checkers: every record, and the IPv4 packet in it whatever the
capture's link type (Ethernet, Linux cooked, raw IP)."""
import struct

ETHERNET, LINUX_COOKED = 1, 113
RAW_IP = (12, 101, 228)
MICROSECONDS, NANOSECONDS = 0xA1B2C3D4, 0xA1B23C4D


class PcapError(Exception):
    pass


def records(path):
    """(timestamp in ns, link type, captured bytes, length on the wire) per record."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise PcapError("%s: not a pcap file (%d bytes)" % (path, len(data)))
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (MICROSECONDS, NANOSECONDS):
            break
    else:
        raise PcapError("%s: not a pcap file (magic %s)" % (path, data[:4].hex()))
    scale = 1 if magic == NANOSECONDS else 1000
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, wire = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        yield seconds * 1_000_000_000 + fraction * scale, linktype, frame, wire


def link_header(linktype, frame):
    """Bytes before the IPv4 packet in a frame; None when the frame holds no IPv4 packet or the
    link type is not one of the above."""
    if linktype == ETHERNET:
        return 14 if frame[12:14] == b"\x08\x00" else None
    if linktype == LINUX_COOKED:
        return 16 if frame[14:16] == b"\x08\x00" else None
    if linktype in RAW_IP:
        return 0 if frame[:1] and frame[0] >> 4 == 4 else None
    return None


def ipv4_packets(path, strict=False):
    """(timestamp in ns, IPv4 packet as captured, its length on the wire) per record holding
    one. strict: a link type not understood is an error instead of a capture without IPv4."""
    for stamp, linktype, frame, wire in records(path):
        if strict and linktype not in (ETHERNET, LINUX_COOKED) + RAW_IP:
            raise PcapError("%s: link type %d not understood" % (path, linktype))
        header = link_header(linktype, frame)
        if header is not None:
            yield stamp, frame[header:], wire - header
