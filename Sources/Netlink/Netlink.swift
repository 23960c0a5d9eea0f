// Netlink: rtnetlink over libmnl (links, addresses, routes, neighbours, FDB).
