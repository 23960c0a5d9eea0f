#!/usr/bin/env python3
"""WireGuard datagrams in an underlay capture, for Scripts/wireguard-check.sh.

  wireguard_wire.py check PCAP MTU            every UDP payload is a WireGuard message of a size
                                              its type allows; prints the count per type
  wireguard_wire.py extract PCAP SRC DST TYPE OUT
                                              writes the payloads of type TYPE sent from SRC to
                                              DST (IPv4 addresses) to OUT, one hex line each
  wireguard_wire.py send HOST PORT FILE [--flip] [--repeat N]
                                              sends every payload of FILE (N times over;
                                              --flip: one bit of the sealed part flipped)
Sizes (protocol page): initiation 148, response 92, cookie reply 64, transport 32 + the
plaintext padded to a multiple of 16, or to the tunnel MTU when that is less.
"""
import socket
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import pcapfile  # noqa: E402

SIZES = {1: 148, 2: 92, 3: 64}


def udp_payloads(path):
    for _, packet, _ in pcapfile.ipv4_packets(path, strict=True):
        if packet[9] != 17:
            continue
        header = (packet[0] & 15) * 4
        source, destination = socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20])
        yield source, destination, packet[header + 8:]


def problem(payload, mtu):
    if len(payload) < 4 or payload[0] not in (1, 2, 3, 4) or payload[1:4] != b"\0\0\0":
        return "not a WireGuard header: %s" % payload[:4].hex()
    kind = payload[0]
    if kind in SIZES:
        return None if len(payload) == SIZES[kind] else "type %d of %d bytes" % (kind, len(payload))
    plaintext = len(payload) - 32
    if plaintext < 0 or (plaintext % 16 != 0 and plaintext != mtu):
        return "transport message of %d bytes (plaintext %d)" % (len(payload), plaintext)
    return None


def main():
    mode = sys.argv[1]
    if mode == "check":
        path, mtu = sys.argv[2], int(sys.argv[3])
        counts = {1: 0, 2: 0, 3: 0, 4: 0}
        for source, destination, payload in udp_payloads(path):
            wrong = problem(payload, mtu)
            if wrong:
                print("BAD %s -> %s: %s" % (source, destination, wrong))
                sys.exit(1)
            counts[payload[0]] += 1
        print(" ".join("type%d=%d" % item for item in sorted(counts.items())))
    elif mode == "extract":
        path, source, destination, kind, out = sys.argv[2:7]
        with open(out, "w") as f:
            for s, d, payload in udp_payloads(path):
                if s == source and d == destination and payload[:1] == bytes([int(kind)]):
                    f.write(payload.hex() + "\n")
    elif mode == "send":
        host, port, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        flip = "--flip" in sys.argv
        repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
        payloads = [bytes.fromhex(line) for line in open(path) if line.strip()]
        if flip:
            payloads = [p[:20] + bytes([p[20] ^ 0x10]) + p[21:] for p in payloads]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = 0
        for _ in range(repeat):
            for p in payloads:
                s.sendto(p, (host, port))
                sent += 1
        print(sent)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
