#pragma once
// The prefix cache on disk, so a server's system prompts and long documents survive a restart:
// every prefix the cache holds (serve/prefix_cache.h) is written as one prompt-state file
// (runtime/prompt_state.h: the model's fingerprint, the token ids and a checksum per chunk) when
// the scheduler stops, and read back into the cache's blocks when the next one starts. A file of
// another model or version, a truncated or corrupted one, is skipped with a warning and never
// trusted; a write that fails (a full disk) costs only that file, with a warning.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tenfold {

class BatchedContext;
class Model;
class PrefixCache;

struct PrefixStateReport {
    int files = 0;   // written / restored
    int tokens = 0;  // positions they hold
    std::vector<std::string> warnings;
};

// Writes the cache's prefixes, most recently used first, while they fit maxBytes, into dir
// (created if missing) as prefix-<model fingerprint>-<hash>.tfkv, and removes this model's prefix
// files of earlier runs that are not among them (other models' files stay).
PrefixStateReport savePrefixState(const PrefixCache& cache, const BatchedContext& ctx, const Model& model,
                                  const std::filesystem::path& dir, uint64_t maxBytes);
// Reads every prefix file of dir (newest first) into the cache, while the pool has blocks.
PrefixStateReport restorePrefixState(PrefixCache& cache, BatchedContext& ctx, const Model& model,
                                     const std::filesystem::path& dir);

} // namespace tenfold
