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

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): the new connection never blocks and
/// never leaks into a child process. Returns the fd or -1 with errno set.
int flannel_accept_nonblocking(int fd);

/// pipe2(fds, O_NONBLOCK | O_CLOEXEC). Returns 0 or -1 with errno set.
int flannel_pipe_nonblocking(int fds[2]);

/// pipe2(fds, O_CLOEXEC): both ends blocking (a child gets one end as its stdin/stdout) and
/// neither leaks into another child. Returns 0 or -1 with errno set.
int flannel_pipe_cloexec(int fds[2]);

/// posix_spawn(path, argv, envp) with the child's stdin, stdout and stderr on the given fds,
/// every other fd closed, no signal blocked and every signal at its default disposition (the
/// daemon blocks and ignores some; a child must not inherit that). No thread, no run loop.
/// Stores the child's pid and returns 0, or returns an errno.
int flannel_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd,
                  int stdout_fd, int stderr_fd, int *pid);

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

// Kernel constants that Swift's Glibc module does not import, as enum constants: Swift sees
// literals (nothing loaded per packet). shims.c checks every one against the kernel's and
// glibc's own headers at compile time.
enum {
  // <netinet/udp.h>: the UDP socket level and its GSO / GRO options and control messages.
  FLANNEL_SOL_UDP = 17,
  FLANNEL_UDP_SEGMENT = 103,
  FLANNEL_UDP_GRO = 104,
  // <linux/if_tun.h>: one TUN device, several queues (one per forwarder).
  FLANNEL_IFF_MULTI_QUEUE = 0x0100,
  // <linux/virtio_net.h>: struct virtio_net_hdr's flags and gso_type values.
  FLANNEL_VIRTIO_NET_HDR_F_NEEDS_CSUM = 1,
  FLANNEL_VIRTIO_NET_HDR_GSO_NONE = 0,
  FLANNEL_VIRTIO_NET_HDR_GSO_TCPV4 = 1,
  FLANNEL_VIRTIO_NET_HDR_GSO_TCPV6 = 4,
  FLANNEL_VIRTIO_NET_HDR_GSO_UDP_L4 = 5,
  FLANNEL_VIRTIO_NET_HDR_GSO_ECN = 0x80,
  // <linux/bpf_common.h>: classic BPF opcode parts (instruction class, size, mode, operation,
  // source), combined in Swift as in C.
  FLANNEL_BPF_LD = 0x00,
  FLANNEL_BPF_LDX = 0x01,
  FLANNEL_BPF_ST = 0x02,
  FLANNEL_BPF_ALU = 0x04,
  FLANNEL_BPF_RET = 0x06,
  FLANNEL_BPF_MISC = 0x07,
  FLANNEL_BPF_JMP = 0x05,
  FLANNEL_BPF_W = 0x00,
  FLANNEL_BPF_H = 0x08,
  FLANNEL_BPF_B = 0x10,
  FLANNEL_BPF_ABS = 0x20,
  FLANNEL_BPF_IND = 0x40,
  FLANNEL_BPF_MEM = 0x60,
  FLANNEL_BPF_MSH = 0xa0,
  FLANNEL_BPF_ADD = 0x00,
  FLANNEL_BPF_MUL = 0x20,
  FLANNEL_BPF_RSH = 0x70,
  FLANNEL_BPF_XOR = 0xa0,
  FLANNEL_BPF_JEQ = 0x10,
  FLANNEL_BPF_JSET = 0x40,
  FLANNEL_BPF_K = 0x00,
  FLANNEL_BPF_X = 0x08,
  FLANNEL_BPF_A = 0x10,
  FLANNEL_BPF_TAX = 0x00,
};

/// Control-message geometry on 64-bit Linux (CMSG_LEN / CMSG_SPACE are macros Swift cannot
/// expand; checked in shims.c): a UDP GSO send carries one cmsg with a uint16_t segment size,
/// a UDP GRO receive one with an int. This header includes no socket header: a module that
/// re-declares <sys/socket.h> hides Glibc's own constants from Swift files importing both.
enum {
  FLANNEL_CMSG_LEVEL_OFFSET = 8,
  FLANNEL_CMSG_TYPE_OFFSET = 12,
  FLANNEL_CMSG_DATA_OFFSET = 16,
  FLANNEL_CMSG_LEN_U16 = 18,
  FLANNEL_CMSG_SPACE_U16 = 24,
  FLANNEL_CMSG_SPACE_INT = 24,
};

/// Relaxed atomic 64-bit store/load: a single-writer counter published to other threads
/// without a locked read-modify-write per packet.
static inline void flannel_store_relaxed_u64(uint64_t *p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline uint64_t flannel_load_relaxed_u64(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif
