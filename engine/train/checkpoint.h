#pragma once
// The training checkpoint file: everything a run needs to continue exactly where it stopped —
// the settings that shape the loss curve (to refuse a resume that would not continue it), the
// step, the data sampler's RNG state, AdamW's step count and moments, and the parameters.
// Layout (little-endian): "TFTRCKP1", u32 setting count, per setting (u32 name length, name,
// f64 value), i64 step, u64 rng, i64 AdamW steps, u64 parameter count, then params, m, v as
// f32, and a trailing FNV-1a 64 of every byte before it. Written through a temporary file
// renamed into place, so a kill at any moment leaves the previous checkpoint or the new one.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tenfold::train {

struct CheckpointState {
    std::vector<std::pair<std::string, double>> settings;
    int64_t step = 0;
    uint64_t rng = 0;
    int64_t adamSteps = 0;
    std::vector<float> params, m, v;
};

void writeCheckpoint(const std::filesystem::path& path, const CheckpointState& state); // IoError
// Throws IoError (unreadable) or FormatError (not a checkpoint, truncated, checksum mismatch).
CheckpointState readCheckpoint(const std::filesystem::path& path);

} // namespace tenfold::train
