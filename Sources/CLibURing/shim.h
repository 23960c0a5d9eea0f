// liburing.h defines _GNU_SOURCE, which breaks the Clang module import (fd_set);
// including <features.h> first settles the feature macros before it does.
#include <features.h>
#include <liburing.h>
