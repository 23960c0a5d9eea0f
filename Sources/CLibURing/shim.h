// liburing.h defines _GNU_SOURCE, which breaks the Clang module import (fd_set);
// including <features.h> first settles the feature macros before it does.
#include <features.h>
#include <liburing.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

// What liburing 2.3 (Debian bookworm) lacks and Swift cannot write itself: the multishot READ
// opcode (kernel 6.7, helper only in liburing 2.6), buffer selection on an SQE, and setting
// up a provided-buffer ring (io_uring_setup_buf_ring is liburing 2.4).

/// IORING_OP_READ_MULTISHOT (uapi value; absent from liburing 2.3 and the 6.1 uapi headers).
static const int flannel_IORING_OP_READ_MULTISHOT = 49;

/// One READ that stays armed: every packet the file yields lands in a buffer picked from
/// group `group` and completes with IORING_CQE_F_MORE until the request ends (no buffer left,
/// error, cancel).
static inline void flannel_prep_read_multishot(struct io_uring_sqe *sqe, int fd,
                                               unsigned short group) {
  io_uring_prep_rw(flannel_IORING_OP_READ_MULTISHOT, sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
}

/// A one-shot READ of up to `length` bytes into a buffer picked from `group` (the fallback
/// when READ_MULTISHOT is not supported).
static inline void flannel_prep_read_select(struct io_uring_sqe *sqe, int fd,
                                            unsigned length, unsigned short group) {
  io_uring_prep_read(sqe, fd, NULL, length, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
}

/// RECVMSG that stays armed, each datagram in a buffer from `group` laid out as
/// io_uring_recvmsg_out, name (msg_namelen bytes), control, payload.
static inline void flannel_prep_recvmsg_multishot(struct io_uring_sqe *sqe, int fd,
                                                  struct msghdr *msg, unsigned flags,
                                                  unsigned short group) {
  io_uring_prep_recvmsg_multishot(sqe, fd, msg, flags);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
}

/// Bytes of ring memory for `entries` buffer descriptors (a whole number of pages).
static inline size_t flannel_buf_ring_size(unsigned entries) {
  size_t bytes = (size_t)entries * sizeof(struct io_uring_buf);
  size_t page = 4096;
  return (bytes + page - 1) / page * page;
}

/// Maps and registers a provided-buffer ring of `entries` (a power of two) descriptors for
/// group `group`. Returns the ring, or NULL with *error set to -errno.
static inline struct io_uring_buf_ring *flannel_buf_ring_setup(struct io_uring *ring,
                                                               unsigned entries,
                                                               unsigned short group,
                                                               int *error) {
  size_t size = flannel_buf_ring_size(entries);
  void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED) {
    *error = -errno;
    return NULL;
  }
  struct io_uring_buf_ring *br = (struct io_uring_buf_ring *)memory;
  io_uring_buf_ring_init(br);
  struct io_uring_buf_reg reg = {0};
  reg.ring_addr = (uint64_t)(uintptr_t)memory;
  reg.ring_entries = entries;
  reg.bgid = group;
  int result = io_uring_register_buf_ring(ring, &reg, 0);
  if (result != 0) {
    munmap(memory, size);
    *error = result;
    return NULL;
  }
  *error = 0;
  return br;
}

/// Unregisters (when `ring` is not NULL) and unmaps a ring from flannel_buf_ring_setup.
static inline void flannel_buf_ring_free(struct io_uring *ring, struct io_uring_buf_ring *br,
                                         unsigned entries, unsigned short group) {
  if (ring != NULL) io_uring_unregister_buf_ring(ring, group);
  munmap(br, flannel_buf_ring_size(entries));
}

/// Queues buffer `bid` at `offset` slots past the ring's tail (published by _advance).
static inline void flannel_buf_ring_add(struct io_uring_buf_ring *br, void *addr, unsigned len,
                                        unsigned short bid, unsigned entries, int offset) {
  io_uring_buf_ring_add(br, addr, len, bid, io_uring_buf_ring_mask(entries), offset);
}

/// Makes `count` queued buffers visible to the kernel (store-release of the tail).
static inline void flannel_buf_ring_advance(struct io_uring_buf_ring *br, int count) {
  io_uring_buf_ring_advance(br, count);
}
