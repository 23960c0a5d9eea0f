// The benchmark baseline: a TUN <-> UDP forwarder built the way stock flanneld's udp backend
// (its C proxy) is built, so bench.sh can measure "what flannel's udp backend costs" without a
// Go toolchain: one thread, poll() on the TUN and the UDP socket, one packet per syscall
// (read/sendto, recv/write), TTL decremented with an incremental checksum patch, a static
// route table from the command line with a linear scan. Written for this project from the
// behaviour description, not from flannel's source.
//
// Usage: baseline-fwd TUN_NAME BIND_IP PORT ROUTE...
//   ROUTE = NET/LEN=NEXT_HOP_IP, e.g. 10.1.2.0/24=192.168.77.12 (the peer's UDP port is PORT,
//   as in flannel, where every host listens on the same port).
// The TUN is opened with IFF_TUN|IFF_NO_PI; address, MTU and routes on it are the caller's job.
// Wire format: the UDP payload is the inner IPv4 packet, nothing else.
// SIGTERM/SIGINT: print packet counters to stderr and exit 0.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct route {
  uint32_t net, mask; // network order
  struct sockaddr_in next_hop;
};

static struct route routes[64];
static int route_count;
static volatile sig_atomic_t stopping;
static unsigned long long tun_in, udp_out, udp_in, tun_out, no_route, ttl_drops, short_drops;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int open_tun(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  // Non-blocking like flannel's proxy: the drain loop below stops on EAGAIN.
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("O_NONBLOCK");
  return fd;
}

static int open_udp(const char *ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) die("bind address");
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  return fd; // default socket buffers, as stock flanneld leaves them
}

static void parse_route(const char *arg, int port) {
  char net[32], hop[32];
  int len;
  if (route_count == (int)(sizeof routes / sizeof routes[0])) die("too many routes");
  if (sscanf(arg, "%31[0-9.]/%d=%31[0-9.]", net, &len, hop) != 3 || len < 0 || len > 32) {
    fprintf(stderr, "bad route %s (want NET/LEN=NEXT_HOP)\n", arg);
    exit(2);
  }
  struct route *r = &routes[route_count++];
  if (inet_pton(AF_INET, net, &r->net) != 1) die("route network");
  r->mask = len == 0 ? 0 : htonl(~0u << (32 - len));
  r->net &= r->mask;
  r->next_hop = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, hop, &r->next_hop.sin_addr) != 1) die("route next hop");
}

// Linear scan with move-to-front of the hit, as flannel's proxy does for bursts to one peer.
static struct route *lookup(uint32_t dst) {
  for (int i = 0; i < route_count; i++) {
    if ((dst & routes[i].mask) == routes[i].net) {
      if (i > 0) {
        struct route hit = routes[i];
        routes[i] = routes[0];
        routes[0] = hit;
      }
      return &routes[0];
    }
  }
  return NULL;
}

// Decrements the TTL (byte 8) and patches the header checksum (bytes 10-11) incrementally
// (RFC 1624: the 16-bit word holding TTL drops by 0x0100, so the checksum rises by 0x0100
// with end-around carry). Returns 0 when the TTL reaches zero and the packet must go.
static int decrement_ttl(uint8_t *ip) {
  if (ip[8] <= 1) return 0;
  ip[8]--;
  uint32_t sum = ((uint32_t)ip[10] << 8 | ip[11]) + 0x0100;
  sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (uint8_t)(sum >> 8);
  ip[11] = (uint8_t)sum;
  return 1;
}

// One TUN -> UDP step; returns 0 when the TUN had nothing to read.
static int tun_to_udp(int tun, int udp, uint8_t *buf, size_t cap) {
  ssize_t n = read(tun, buf, cap);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) perror("read tun");
    return 0;
  }
  tun_in++;
  if (n < 20) { short_drops++; return 1; }
  uint32_t dst;
  memcpy(&dst, buf + 16, 4);
  struct route *r = lookup(dst);
  if (!r) { no_route++; return 1; }
  if (!decrement_ttl(buf)) { ttl_drops++; return 1; }
  if (sendto(udp, buf, (size_t)n, 0, (struct sockaddr *)&r->next_hop, sizeof r->next_hop) == n)
    udp_out++;
  return 1;
}

// One UDP -> TUN step; returns 0 when the socket had nothing to receive.
static int udp_to_tun(int udp, int tun, uint8_t *buf, size_t cap) {
  ssize_t n = recv(udp, buf, cap, MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) perror("recv udp");
    return 0;
  }
  udp_in++;
  if (n < 20) { short_drops++; return 1; }
  if (!decrement_ttl(buf)) { ttl_drops++; return 1; }
  // Busy-retry a full TUN queue, as flannel's proxy does.
  while (write(tun, buf, (size_t)n) < 0) {
    if (errno != EAGAIN && errno != EINTR) { perror("write tun"); return 1; }
    if (stopping) return 1;
  }
  tun_out++;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s TUN_NAME BIND_IP PORT NET/LEN=NEXT_HOP...\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[3]);
  for (int i = 4; i < argc; i++) parse_route(argv[i], port);
  int tun = open_tun(argv[1]);
  int udp = open_udp(argv[2], port);
  struct sigaction sa = {.sa_handler = on_signal}; // no SA_RESTART: poll must return EINTR
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  size_t cap = 65536; // larger than any TUN MTU, so a datagram is never truncated
  uint8_t *buf = malloc(cap);
  if (!buf) die("malloc");
  fprintf(stderr, "baseline-fwd: %s <-> udp %s:%d, %d routes\n", argv[1], argv[2], port,
          route_count);
  struct pollfd fds[2] = {{.fd = tun, .events = POLLIN}, {.fd = udp, .events = POLLIN}};
  while (!stopping) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    // Drain both directions one packet each per round until a round moves nothing.
    int moved;
    do {
      moved = tun_to_udp(tun, udp, buf, cap);
      moved |= udp_to_tun(udp, tun, buf, cap);
    } while (moved && !stopping);
  }
  fprintf(stderr,
          "baseline-fwd counters: tun_in=%llu udp_out=%llu udp_in=%llu tun_out=%llu "
          "no_route=%llu ttl_drops=%llu short_drops=%llu\n",
          tun_in, udp_out, udp_in, tun_out, no_route, ttl_drops, short_drops);
  free(buf);
  return 0;
}
