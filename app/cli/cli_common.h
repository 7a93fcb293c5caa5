#pragma once
// Pieces several commands share: loading a model with a clear error, choosing a backend from
// --device/--device-index/--threads, reading text files, number formatting, peak memory.
#include "core/platform.h"
#include "cli_args.h"
#include "runtime/backend.h"

#include <atomic>
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
// A file name from the command line (UTF-8) as a path. Every path built from an argument goes
// through here: on Windows a plain std::string converts with the C runtime's code page, not UTF-8.
inline std::filesystem::path filePath(const std::string& utf8) { return platform::pathFromUtf8(utf8); }

std::shared_ptr<Model> loadModel(const std::string& path);

// --device cpu|vulkan, --device-index N, --threads N (help texts included).
std::vector<OptionSpec> backendOptions();
std::unique_ptr<Backend> createBackend(const ParsedArgs& args);
int threadCount(const ParsedArgs& args); // --threads, 0 when absent (all cores)

std::string readTextFile(const std::string& path); // throws IoError naming the path

// The context --ctx asks for, or else the model's training context capped at kDefaultMaxContext:
// Llama 3.1 declares 131072 positions, whose KV cache alone would take 16 GiB.
constexpr int kDefaultMaxContext = 4096;
int contextFromArgs(const ParsedArgs& args, const Model& model);

// Ctrl-C handling for long-running commands: the first SIGINT sets the returned flag (pass it as
// a cancel flag to generate / perplexity), a second one while it is still set ends the process
// the usual way. A blocking read interrupted by it fails (no SA_RESTART), so chat can quit at
// its prompt. Exit code 130 is the shell's convention for "ended by SIGINT".
constexpr int kInterruptedExitCode = 130;
const std::atomic<bool>* installInterruptHandler();
bool interrupted();
void clearInterrupt();

std::string formatBytes(uint64_t bytes);  // "31.7 MB (31,678,560 bytes)" style, short form
std::string withThousands(uint64_t n);    // 15,735,168
uint64_t peakRssBytes();                  // VmHWM from /proc/self/status; 0 if unknown

} // namespace tenfold::cli
