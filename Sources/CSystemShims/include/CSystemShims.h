#ifndef FLANNEL_C_SYSTEM_SHIMS_H
#define FLANNEL_C_SYSTEM_SHIMS_H

#include <stdint.h>

// Small wrappers for GNU-only libc calls that Swift's Glibc module does not import. The .c
// file is compiled with _GNU_SOURCE; this header must not need it.

/// mallopt(M_ARENA_MAX, n): cap the number of malloc arenas. Returns 1 on success.
int flannel_set_malloc_arena_max(int n);

/// malloc_trim(0): hands the free pages of the heap back to the kernel. Returns 1 when some
/// memory was released.
int flannel_malloc_trim(void);

/// eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC) when nonblocking != 0, else EFD_CLOEXEC only.
/// Returns the fd or -1 with errno set.
int flannel_eventfd(unsigned int initval, int nonblocking);

/// pthread_setname_np(pthread_self(), name): names the calling thread (≤ 15 bytes) for top,
/// perf and /proc. Returns 0 or an errno.
int flannel_set_thread_name(const char *name);

/// io_uring_register(ring_fd, IORING_REGISTER_ENABLE_RINGS): liburing 2.3 declares
/// io_uring_enable_rings but its shared library does not export it. Returns 0 or -errno.
int flannel_io_uring_enable_rings(int ring_fd);

// ioctl request codes built with _IOW/_IOR (which Swift cannot expand) or defined in headers
// Swift should not import next to Glibc (<linux/if_tun.h>, <linux/sockios.h>).
extern const unsigned long flannel_TUNSETIFF;
extern const unsigned long flannel_TUNGETIFF;
extern const unsigned long flannel_SIOCSIFMTU;
extern const unsigned long flannel_SIOCGIFFLAGS;
extern const unsigned long flannel_SIOCSIFFLAGS;
extern const unsigned long flannel_SIOCSIFTXQLEN;
extern const short flannel_IFF_TUN;
extern const short flannel_IFF_NO_PI;
/// TUN offloads: every read and write starts with a virtio_net_hdr (IFF_VNET_HDR) whose size
/// TUNSETVNETHDRSZ sets; TUNSETOFFLOAD takes the TUN_F_* bits the reader can handle.
extern const short flannel_IFF_VNET_HDR;
extern const unsigned long flannel_TUNSETVNETHDRSZ;
extern const unsigned long flannel_TUNSETOFFLOAD;
extern const unsigned int flannel_TUN_F_CSUM;
extern const unsigned int flannel_TUN_F_TSO4;
extern const unsigned int flannel_TUN_F_TSO6;
extern const unsigned int flannel_TUN_F_USO4;
extern const unsigned int flannel_TUN_F_USO6;

/// Relaxed atomic 64-bit store/load: a single-writer counter published to other threads
/// without a locked read-modify-write per packet.
static inline void flannel_store_relaxed_u64(uint64_t *p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline uint64_t flannel_load_relaxed_u64(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif
