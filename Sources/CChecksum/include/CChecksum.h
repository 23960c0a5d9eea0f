#ifndef FLANNEL_C_CHECKSUM_H
#define FLANNEL_C_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

// The bulk of the Internet checksum (RFC 1071) with AVX2 when the CPU has it: the data plane
// sums every payload byte once when it splits a TSO super-packet and once when it validates a
// segment before merging, and Swift has no way to pick vector code at run time.

/// Adds up the 32-bit words (host byte order) of the first `length` bytes at `bytes`;
/// `length` must be a multiple of 64. The result is not folded: fold it with the rest of the
/// sum (it stays below 2^48 for any length below 4 GiB).
uint64_t flannel_sum32_blocks(const void *bytes, size_t length);

/// The portable loop alone (what CPUs without AVX2 run), for the tests to compare.
uint64_t flannel_sum32_blocks_portable(const void *bytes, size_t length);

/// 1 when flannel_sum32_blocks uses AVX2 on this CPU, 0 when it runs the portable loop.
int flannel_checksum_uses_avx2(void);

#endif
