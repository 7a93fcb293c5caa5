#pragma once
#include <cstdint>

namespace tenfold {

// The machine's physical memory in bytes; 0 when unknown. Contexts refuse a KV cache larger than
// this with a message naming it, rather than bad_alloc or the OOM killer halfway through.
uint64_t physicalMemoryBytes();

} // namespace tenfold
