#include "cli_common.h"

#include "core/error.h"
#include "core/platform.h"
#include "model/model.h"
#include "runtime/cpu_backend.h"
#if TENFOLD_HAVE_VULKAN
#include "gpu/vulkan_backend.h"
#endif

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace tenfold::cli {

std::shared_ptr<Model> loadModel(const std::string& path)
{
    std::error_code ec;
    const std::filesystem::path file = platform::pathFromUtf8(path);
    if (!std::filesystem::exists(file, ec))
        throw IoError("model file not found: " + path);
    if (std::filesystem::is_directory(file, ec))
        throw IoError("model path is a directory, not a file: " + path);
    return Model::loadGGUF(file);
}

std::vector<OptionSpec> backendOptions()
{
    return {
        {"--device", "", "cpu|vulkan", "compute device (default cpu)"},
        {"--device-index", "", "N", "Vulkan device from `devices` (default: the best one)"},
        {"--threads", "-t", "N", "CPU threads (default: all cores)"},
    };
}

int threadCount(const ParsedArgs& args)
{
    return int(args.getInt("--threads", 0, 1, 1024));
}

std::unique_ptr<Backend> createBackend(const ParsedArgs& args)
{
    const std::string device = args.getString("--device", "cpu");
    if (device == "cpu")
        return createCpuBackend(threadCount(args));
    if (device == "vulkan") {
#if TENFOLD_HAVE_VULKAN
        return createVulkanBackend(int(args.getInt("--device-index", -1, -1, 64)));
#else
        throw UnsupportedError("this tenfold-cli was built without Vulkan; use --device cpu");
#endif
    }
    throw UsageError("--device must be cpu or vulkan, not '" + device + "'");
}

std::string readTextFile(const std::string& path)
{
    std::error_code ec;
    const std::filesystem::path file = filePath(path);
    const auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status))
        throw IoError("cannot read text file: " + path + " (no such file)");
    if (std::filesystem::is_directory(status))
        throw IoError("cannot read text file: " + path + " (it is a directory)");
    // Pipes and character devices (-f /dev/stdin) are fine; sockets and the like are not.
    if (!std::filesystem::is_regular_file(status) && !std::filesystem::is_fifo(status) &&
        !std::filesystem::is_character_file(status))
        throw IoError("cannot read text file: " + path + " (not a regular file)");
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw IoError("cannot read text file: " + path + " (cannot open it)");
    std::ostringstream os;
    // An empty file is a valid (empty) text; only a failed stream is an error.
    if (in.peek() != std::ifstream::traits_type::eof() && !(os << in.rdbuf()))
        throw IoError("cannot read text file: " + path + " (read failed)");
    if (in.bad())
        throw IoError("cannot read text file: " + path + " (read failed)");
    return os.str();
}

namespace {

std::atomic<bool> gInterrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

// A second Ctrl-C before the command reacted returns false: the process ends at once.
bool onInterrupt() { return !gInterrupted.exchange(true); }

} // namespace

const std::atomic<bool>* installInterruptHandler()
{
    platform::onInterrupt(onInterrupt); // no SA_RESTART: chat's blocking read of stdin returns
    return &gInterrupted;
}

bool interrupted() { return gInterrupted.load(); }

void clearInterrupt() { gInterrupted.store(false); }

int contextFromArgs(const ParsedArgs& args, const Model& model)
{
    const int requested = int(args.getInt("--ctx", 0, 0, 1 << 24));
    if (requested > 0)
        return requested;
    return std::min(model.hparams().nCtxTrain, kDefaultMaxContext);
}

std::string withThousands(uint64_t n)
{
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string formatBytes(uint64_t bytes)
{
    char buf[64];
    if (bytes >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
    else if (bytes >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / double(1ull << 20));
    else if (bytes >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024.0);
    else
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
}

uint64_t peakRssBytes() { return platform::peakResidentBytes(); }

} // namespace tenfold::cli
