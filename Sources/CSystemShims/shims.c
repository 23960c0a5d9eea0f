#define _GNU_SOURCE
#include <malloc.h>

#include "CSystemShims.h"

int flannel_set_malloc_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }
