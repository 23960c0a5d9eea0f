#!/usr/bin/env python3
"""Turns one netdev feature on or off, like `ethtool -K IFACE FEATURE on|off` (which this
machine does not have), through the SIOCETHTOOL ioctl. Run it inside the namespace:

  ip netns exec NS netdev_features.py IFACE FEATURE on|off

Exits non-zero when the device has no such feature or it did not take the new value.
"""
import ctypes
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
ETHTOOL_GSTRINGS = 0x1B
ETHTOOL_GSSET_INFO = 0x37
ETHTOOL_GFEATURES = 0x3A
ETHTOOL_SFEATURES = 0x3B
ETH_SS_FEATURES = 4
ETH_GSTRING_LEN = 32


def ethtool(sock, iface, request):
    """Runs one SIOCETHTOOL request (bytes, starting with its cmd); returns the reply."""
    buffer = ctypes.create_string_buffer(request, len(request))
    ifreq = struct.pack("16sP", iface.encode(), ctypes.addressof(buffer))
    ifreq += b"\0" * (40 - len(ifreq))
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifreq)
    return buffer.raw


def feature_names(sock, iface):
    reply = ethtool(sock, iface, struct.pack("=IIQI", ETHTOOL_GSSET_INFO, 0, 1 << ETH_SS_FEATURES, 0))
    count = struct.unpack("=I", reply[16:20])[0]
    reply = ethtool(sock, iface, struct.pack("=III", ETHTOOL_GSTRINGS, ETH_SS_FEATURES, count)
                    + b"\0" * (count * ETH_GSTRING_LEN))
    data = reply[12:]
    return [data[i * ETH_GSTRING_LEN:(i + 1) * ETH_GSTRING_LEN].split(b"\0")[0].decode()
            for i in range(count)]


def active(sock, iface, blocks, bit):
    reply = ethtool(sock, iface, struct.pack("=II", ETHTOOL_GFEATURES, blocks) + b"\0" * (16 * blocks))
    block = struct.unpack("=IIII", reply[8 + 16 * (bit // 32):8 + 16 * (bit // 32 + 1)])
    return bool(block[2] & (1 << (bit % 32)))


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("on", "off"):
        sys.exit(__doc__)
    iface, feature, value = sys.argv[1], sys.argv[2], sys.argv[3] == "on"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    names = feature_names(sock, iface)
    if feature not in names:
        sys.exit("%s has no feature %s" % (iface, feature))
    bit = names.index(feature)
    blocks = (len(names) + 31) // 32
    request = bytearray(struct.pack("=II", ETHTOOL_SFEATURES, blocks) + b"\0" * (8 * blocks))
    struct.pack_into("=II", request, 8 + 8 * (bit // 32), 1 << (bit % 32), (1 << (bit % 32)) if value else 0)
    ethtool(sock, iface, bytes(request))
    if active(sock, iface, blocks, bit) != value:
        sys.exit("%s: %s is still %s" % (iface, feature, "off" if value else "on"))


if __name__ == "__main__":
    main()
