#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/virtio_net.h>
#include <netinet/udp.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <errno.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "CSystemShims.h"

int flannel_set_malloc_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }

int flannel_malloc_trim(void) { return malloc_trim(0); }

int flannel_accept_nonblocking(int fd) {
  return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int flannel_pipe_nonblocking(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }

int flannel_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int flannel_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd,
                  int stdout_fd, int stderr_fd, int *pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t none, all;
  int err = posix_spawn_file_actions_init(&actions);
  if (err) return err;
  err = posix_spawnattr_init(&attributes);
  if (err) {
    posix_spawn_file_actions_destroy(&actions);
    return err;
  }
  sigemptyset(&none);
  sigfillset(&all);
  if (!err) err = posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  if (!err) err = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  if (!err) err = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  if (!err) err = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!err) err = posix_spawnattr_setsigmask(&attributes, &none);
  if (!err) err = posix_spawnattr_setsigdefault(&attributes, &all);
  if (!err) {
    err = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  if (!err) err = posix_spawn(pid, path, &actions, &attributes, argv, envp);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return err;
}

int flannel_eventfd(unsigned int initval, int nonblocking) {
  return eventfd(initval, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
}

int flannel_set_thread_name(const char *name) {
  return pthread_setname_np(pthread_self(), name);
}

int flannel_io_uring_enable_rings(int ring_fd) {
  long r = syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_ENABLE_RINGS, (void *)0, 0);
  return r < 0 ? -errno : 0;
}

const unsigned long flannel_TUNSETIFF = TUNSETIFF;
const unsigned long flannel_SIOCSIFMTU = SIOCSIFMTU;
const unsigned long flannel_SIOCGIFFLAGS = SIOCGIFFLAGS;
const unsigned long flannel_SIOCSIFFLAGS = SIOCSIFFLAGS;
const unsigned long flannel_SIOCSIFTXQLEN = SIOCSIFTXQLEN;
const short flannel_IFF_TUN = IFF_TUN;
const short flannel_IFF_NO_PI = IFF_NO_PI;
const short flannel_IFF_VNET_HDR = IFF_VNET_HDR;
const unsigned long flannel_TUNSETVNETHDRSZ = TUNSETVNETHDRSZ;
const unsigned long flannel_TUNSETOFFLOAD = TUNSETOFFLOAD;
const unsigned int flannel_TUN_F_CSUM = TUN_F_CSUM;
const unsigned int flannel_TUN_F_TSO4 = TUN_F_TSO4;
const unsigned int flannel_TUN_F_TSO6 = TUN_F_TSO6;
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
const unsigned int flannel_TUN_F_USO4 = TUN_F_USO4;
const unsigned int flannel_TUN_F_USO6 = TUN_F_USO6;

// The enum constants of CSystemShims.h, checked against the headers that define them.
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
_Static_assert(FLANNEL_SOL_UDP == SOL_UDP, "SOL_UDP");
_Static_assert(FLANNEL_UDP_SEGMENT == UDP_SEGMENT, "UDP_SEGMENT");
_Static_assert(FLANNEL_UDP_GRO == UDP_GRO, "UDP_GRO");
_Static_assert(FLANNEL_IFF_MULTI_QUEUE == IFF_MULTI_QUEUE, "IFF_MULTI_QUEUE");
_Static_assert(FLANNEL_VIRTIO_NET_HDR_F_NEEDS_CSUM == VIRTIO_NET_HDR_F_NEEDS_CSUM, "NEEDS_CSUM");
_Static_assert(FLANNEL_VIRTIO_NET_HDR_GSO_NONE == VIRTIO_NET_HDR_GSO_NONE, "GSO_NONE");
_Static_assert(FLANNEL_VIRTIO_NET_HDR_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4, "GSO_TCPV4");
_Static_assert(FLANNEL_VIRTIO_NET_HDR_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6, "GSO_TCPV6");
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
_Static_assert(FLANNEL_VIRTIO_NET_HDR_GSO_UDP_L4 == VIRTIO_NET_HDR_GSO_UDP_L4, "GSO_UDP_L4");
#endif
_Static_assert(FLANNEL_VIRTIO_NET_HDR_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN, "GSO_ECN");
_Static_assert(FLANNEL_BPF_LD == BPF_LD && FLANNEL_BPF_LDX == BPF_LDX && FLANNEL_BPF_ST == BPF_ST &&
                   FLANNEL_BPF_ALU == BPF_ALU && FLANNEL_BPF_RET == BPF_RET &&
                   FLANNEL_BPF_MISC == BPF_MISC && FLANNEL_BPF_JMP == BPF_JMP,
               "BPF classes");
_Static_assert(FLANNEL_BPF_W == BPF_W && FLANNEL_BPF_H == BPF_H && FLANNEL_BPF_B == BPF_B,
               "BPF sizes");
_Static_assert(FLANNEL_BPF_ABS == BPF_ABS && FLANNEL_BPF_IND == BPF_IND &&
                   FLANNEL_BPF_MEM == BPF_MEM && FLANNEL_BPF_MSH == BPF_MSH,
               "BPF modes");
_Static_assert(FLANNEL_BPF_ADD == BPF_ADD && FLANNEL_BPF_MUL == BPF_MUL &&
                   FLANNEL_BPF_RSH == BPF_RSH && FLANNEL_BPF_XOR == BPF_XOR &&
                   FLANNEL_BPF_JEQ == BPF_JEQ && FLANNEL_BPF_JSET == BPF_JSET,
               "BPF operations");
_Static_assert(FLANNEL_BPF_K == BPF_K && FLANNEL_BPF_X == BPF_X && FLANNEL_BPF_A == BPF_A &&
                   FLANNEL_BPF_TAX == BPF_TAX,
               "BPF sources");
_Static_assert(FLANNEL_CMSG_LEVEL_OFFSET == offsetof(struct cmsghdr, cmsg_level), "cmsg_level");
_Static_assert(FLANNEL_CMSG_TYPE_OFFSET == offsetof(struct cmsghdr, cmsg_type), "cmsg_type");
_Static_assert(FLANNEL_CMSG_DATA_OFFSET == CMSG_LEN(0), "CMSG_DATA offset");
_Static_assert(FLANNEL_CMSG_LEN_U16 == CMSG_LEN(sizeof(uint16_t)), "CMSG_LEN(2)");
_Static_assert(FLANNEL_CMSG_SPACE_U16 == CMSG_SPACE(sizeof(uint16_t)), "CMSG_SPACE(2)");
_Static_assert(FLANNEL_CMSG_SPACE_INT == CMSG_SPACE(sizeof(int)), "CMSG_SPACE(int)");
