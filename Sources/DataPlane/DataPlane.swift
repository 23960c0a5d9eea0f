// DataPlane: io_uring ring, TUN device, UDP socket, packet ops, the Forwarder hot loop.
