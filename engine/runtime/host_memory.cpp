#include "runtime/host_memory.h"

#include "core/platform.h"

namespace tenfold {

// 0 when unknown: no limit beyond the allocator's own.
uint64_t physicalMemoryBytes() { return platform::physicalMemoryBytes(); }

} // namespace tenfold
