#!/usr/bin/env python3
"""Moves deterministic bytes over TCP or UDP and prints their sha256, for the data-plane lab.

  dataplane_transfer.py tcp-recv PORT [ADDRESS]  accept one connection, read to EOF (on
                                                 ADDRESS, "::" for IPv6; 0.0.0.0 by default)
  dataplane_transfer.py tcp6-recv PORT           the same on IPv6 ([::]:PORT)
  dataplane_transfer.py tcp-send HOST PORT BYTES send BYTES pseudo-random bytes (HOST: IPv4 or IPv6)
  dataplane_transfer.py udp-recv PORT COUNT      read COUNT datagrams (stop after 3 s idle)
  dataplane_transfer.py udp-send HOST PORT COUNT SIZE
Receivers print "<sha256> <bytes>"; senders print the same for what they sent. UDP datagrams
carry their sequence number first, so the receiver hashes them in order (sent slowly enough
not to be dropped) and reports how many arrived.
"""
import hashlib
import random
import socket
import sys
import time


def data(n, seed=7):
    rng = random.Random(seed)
    return rng.randbytes(n)


def main():
    mode = sys.argv[1]
    h = hashlib.sha256()
    total = 0
    if mode in ("tcp-recv", "tcp6-recv"):
        default = "::" if mode == "tcp6-recv" else "0.0.0.0"
        address = sys.argv[3] if len(sys.argv) > 3 else default
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        s = socket.create_server((address, int(sys.argv[2])), family=family)
        c, _ = s.accept()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
            total += len(b)
    elif mode == "tcp-send":
        payload = data(int(sys.argv[4]))
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
        h.update(payload)
        total = len(payload)
    elif mode == "udp-recv":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(sys.argv[2])))
        s.settimeout(3)
        got = {}
        try:
            while len(got) < int(sys.argv[3]):
                b, _ = s.recvfrom(65535)
                got[int.from_bytes(b[:4], "big")] = b
        except socket.timeout:
            pass
        for i in sorted(got):
            h.update(got[i])
            total += len(got[i])
    elif mode == "udp-send":
        count, size = int(sys.argv[4]), int(sys.argv[5])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        body = data(size)
        for i in range(count):
            b = i.to_bytes(4, "big") + body[4:]
            s.sendto(b, (sys.argv[2], int(sys.argv[3])))
            h.update(b)
            total += len(b)
            if i % 20 == 19:
                time.sleep(0.002)
    print(h.hexdigest(), total)


if __name__ == "__main__":
    main()
