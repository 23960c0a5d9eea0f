#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <unistd.h>

#include "CSystemShims.h"

int flannel_set_malloc_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }

int flannel_malloc_trim(void) { return malloc_trim(0); }

int flannel_eventfd(unsigned int initval, int nonblocking) {
  return eventfd(initval, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
}

int flannel_set_thread_name(const char *name) {
  return pthread_setname_np(pthread_self(), name);
}

int flannel_io_uring_enable_rings(int ring_fd) {
  // IORING_REGISTER_ENABLE_RINGS = 12 (uapi io_uring.h, Linux 5.10).
  long r = syscall(__NR_io_uring_register, ring_fd, 12, (void *)0, 0);
  return r < 0 ? -errno : 0;
}

const unsigned long flannel_TUNSETIFF = TUNSETIFF;
const unsigned long flannel_TUNGETIFF = TUNGETIFF;
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
