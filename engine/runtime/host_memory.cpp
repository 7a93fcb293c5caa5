#include "runtime/host_memory.h"

#include <unistd.h>

namespace tenfold {

uint64_t physicalMemoryBytes()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || pageSize <= 0)
        return 0; // unknown: no limit beyond the allocator's own
    return uint64_t(pages) * uint64_t(pageSize);
}

} // namespace tenfold
