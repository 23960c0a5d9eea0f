#!/usr/bin/env python3
"""UDP datagrams that each prove their own integrity, for Scripts/offload-check.sh.

  udp_integrity.py send HOST PORT SPEC...           (HOST: IPv4 or IPv6)
  udp_integrity.py recv PORT MIN_ARRIVAL SPEC...    (on 0.0.0.0)
  udp_integrity.py recv6 PORT MIN_ARRIVAL SPEC...   (on [::])
SPEC is COUNTxSIZE (COUNT datagrams of SIZE bytes, one send each; SIZE above the path MTU is
fragmented by the sender's IP) or COUNTxSEGSxSIZE (COUNT UDP_SEGMENT sends of SEGS datagrams:
SEGS-1 of SIZE bytes, then one of SIZE/2, which is what a USO super-packet on a TUN looks
like). Both ends are given the same SPECs, so the receiver knows every datagram to expect.

Each datagram is: sequence number (4 bytes), its own length (4), the first 8 bytes of the
sha256 of everything else (sequence, length, body), then a body derived from the sequence
number. The receiver checks each one as it arrives and exits non-zero when any was corrupt,
duplicated, of the wrong length, or when fewer than MIN_ARRIVAL (a fraction, 1 = all) of them
arrived. Both ends print one summary line.
"""
import hashlib
import random
import socket
import struct
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h
HEADER = 16


def plan(specs):
    """[(sizes of the datagrams of one send)] for every send, in order."""
    sends = []
    for spec in specs:
        parts = [int(x) for x in spec.split("x")]
        if len(parts) == 2:
            sends += [[parts[1]]] * parts[0]
        elif len(parts) == 3:
            count, segments, size = parts
            sends += [[size] * (segments - 1) + [size // 2]] * count
        else:
            sys.exit("bad SPEC %r" % spec)
    for sizes in sends:
        if min(sizes) < HEADER:
            sys.exit("datagrams must be at least %d bytes" % HEADER)
    return sends


def digest(seq, size, body):
    return hashlib.sha256(struct.pack("!II", seq, size) + body).digest()[:8]


def datagram(seq, size):
    body = random.Random(seq).randbytes(size - HEADER)
    return struct.pack("!II", seq, size) + digest(seq, size, body) + body


def send(host, port, specs):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect((host, port))
    seq = sent = sends = 0
    for sizes in plan(specs):
        payload = b""
        for size in sizes:
            payload += datagram(seq, size)
            seq += 1
        if len(sizes) > 1:
            s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, sizes[0])
        s.send(payload)
        if len(sizes) > 1:
            s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, 0)
        sent += len(sizes)
        sends += 1
        # Paced (about 10 MB/s): the check is about content, not about overflowing a queue.
        if sent % 16 < len(sizes):
            time.sleep(0.002)
    print("sent %d datagrams in %d sends" % (sent, sends))


def recv(port, min_arrival, specs, address="0.0.0.0"):
    expected = {}
    seq = 0
    for sizes in plan(specs):
        for size in sizes:
            expected[seq] = size
            seq += 1
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((address, port))
    s.settimeout(30)  # until the first datagram
    got = set()
    corrupt = duplicates = 0
    problems = []
    try:
        while len(got) < len(expected):
            b = s.recv(65535)
            s.settimeout(3)  # then: idle this long means the rest is lost
            seq, size = struct.unpack("!II", b[:8]) if len(b) >= 8 else (None, None)
            if (len(b) < HEADER or seq not in expected or size != len(b)
                    or expected[seq] != size or b[8:16] != digest(seq, size, b[16:])):
                corrupt += 1
                problems.append("corrupt datagram of %d bytes: %s" % (len(b), b[:24].hex()))
            elif seq in got:
                duplicates += 1
                problems.append("duplicate of datagram %d" % seq)
            else:
                got.add(seq)
    except socket.timeout:
        pass
    lost = sorted(set(expected) - got)
    print("received %d of %d datagrams intact, %d lost, %d corrupt, %d duplicated%s" % (
        len(got), len(expected), len(lost), corrupt, duplicates,
        " (lost: %s%s)" % (lost[:10], "…" if len(lost) > 10 else "") if lost else ""))
    for p in problems[:5]:
        print("  " + p)
    if corrupt or duplicates or len(got) < min_arrival * len(expected):
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) >= 5 and sys.argv[1] in ("recv", "recv6"):
        recv(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:], "::" if sys.argv[1] == "recv6" else "0.0.0.0")
    else:
        sys.exit(__doc__)
