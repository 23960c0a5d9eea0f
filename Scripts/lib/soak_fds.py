#!/usr/bin/env python3
"""Sorts a process's open descriptors into what a leak check must tell apart.

Usage: soak_fds.py PID ETCD_PORT

Prints one line: `<etcd> <other> <detail>`, where etcd counts TCP sockets connected to
ETCD_PORT (libcurl keeps a bounded pool of them, so their number moves with how many requests
ran at once, not with time), other counts every other descriptor, and detail names each one
(fd=target, sockets with their TCP ports and state) for a failure's log.
"""

import os
import sys

TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
    "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
    "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}


def tcp_sockets(pid):
    """inode -> (local port, remote port, state) for the TCP sockets of pid's namespace."""
    table = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                    table[inode] = (
                        int(local.rsplit(":", 1)[1], 16),
                        int(remote.rsplit(":", 1)[1], 16),
                        TCP_STATES.get(state, state),
                    )
        except (FileNotFoundError, ProcessLookupError):
            pass
    return table


def main():
    pid, etcd_port = sys.argv[1], int(sys.argv[2])
    tcp = tcp_sockets(pid)
    etcd = other = 0
    detail = []
    fd_dir = f"/proc/{pid}/fd"
    for fd in sorted(os.listdir(fd_dir), key=int):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except FileNotFoundError:
            continue  # closed between listing and reading
        inode = target[len("socket:["):-1] if target.startswith("socket:[") else None
        if inode in tcp:
            local, remote, state = tcp[inode]
            target = f"tcp:{local}->{remote}:{state}"
            if remote == etcd_port:
                etcd += 1
                detail.append(f"{fd}={target}")
                continue
        other += 1
        detail.append(f"{fd}={target}")
    print(etcd, other, " ".join(detail))


if __name__ == "__main__":
    main()
