#pragma once
// Pieces several commands share: loading a model with a clear error, choosing a backend from
// --device/--device-index/--threads, reading text files, number formatting, peak memory.
#include "cli_args.h"
#include "runtime/backend.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {
class Model;
}

namespace tenfold::cli {

// Loads a GGUF model; a missing path or a file that is not GGUF gives a tenfold::Error whose
// message names the path.
std::shared_ptr<Model> loadModel(const std::string& path);

// --device cpu|vulkan, --device-index N, --threads N (help texts included).
std::vector<OptionSpec> backendOptions();
std::unique_ptr<Backend> createBackend(const ParsedArgs& args);
int threadCount(const ParsedArgs& args); // --threads, 0 when absent (all cores)

std::string readTextFile(const std::string& path); // throws IoError naming the path

std::string formatBytes(uint64_t bytes);  // "31.7 MB (31,678,560 bytes)" style, short form
std::string withThousands(uint64_t n);    // 15,735,168
uint64_t peakRssBytes();                  // VmHWM from /proc/self/status; 0 if unknown

} // namespace tenfold::cli
