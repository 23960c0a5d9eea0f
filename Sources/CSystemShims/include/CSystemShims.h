#ifndef FLANNEL_C_SYSTEM_SHIMS_H
#define FLANNEL_C_SYSTEM_SHIMS_H

// Small wrappers for GNU-only libc calls that Swift's Glibc module does not import. The .c
// file is compiled with _GNU_SOURCE; this header must not need it.

/// mallopt(M_ARENA_MAX, n): cap the number of malloc arenas. Returns 1 on success.
int flannel_set_malloc_arena_max(int n);

#endif
