#include "cli_ledger.h"

#include "cli_common.h"
#include "core/error.h"
#include "cost/ledger_facts.h"
#include "model/model.h"
#include "runtime/cpu_context.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace tenfold::cli {

std::filesystem::path defaultDataDir()
{
#ifdef _WIN32
    // Qt's AppDataLocation on Windows: %APPDATA%\tenfold\tenfold.
    if (const char* appData = std::getenv("APPDATA"); appData && *appData)
        return filePath(appData) / "tenfold" / "tenfold";
#endif
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "tenfold" / "tenfold";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".local" / "share" / "tenfold" / "tenfold";
    return std::filesystem::current_path() / "tenfold-data";
}

std::string ledgerDeviceTag(const std::string& device, const std::string& backendName)
{
    if (device == "cpu")
        return "cpu";
    std::string name = backendName;
    if (name.rfind("Vulkan: ", 0) == 0)
        name = name.substr(8);
    if (const auto open = name.rfind(" ("); open != std::string::npos && name.back() == ')')
        name = name.substr(0, open);
    return "vulkan:" + name;
}

std::vector<OptionSpec> ledgerOptions()
{
    return {{"--data-dir", "", "DIR", "folder of the usage ledger (default: the desktop app's)"},
            {"--no-ledger", "", "", "do not record this run in the usage ledger"}};
}

#if TENFOLD_HAVE_STORE
struct CliLedger::Sink {
    Store store;
};
#else
struct CliLedger::Sink {};
#endif

CliLedger::CliLedger(std::unique_ptr<Sink> sink, std::string source)
    : sink_(std::move(sink)), source_(std::move(source))
{
}

CliLedger::~CliLedger() = default;

std::unique_ptr<CliLedger> CliLedger::open(const ParsedArgs& args, const std::string& source)
{
    if (args.has("--no-ledger"))
        return nullptr;
#if TENFOLD_HAVE_STORE
    const std::filesystem::path dir =
        args.has("--data-dir") ? filePath(*args.get("--data-dir")) : defaultDataDir();
    try {
        return std::unique_ptr<CliLedger>(new CliLedger(std::make_unique<Sink>(Sink{Store(dir)}), source));
    } catch (const Error& e) {
        throw IoError("cannot open the usage ledger in " + dir.string() + ": " + e.what() +
                      " (pass --no-ledger to run without recording, or --data-dir DIR for another folder)");
    }
#else
    if (args.has("--data-dir"))
        throw UnsupportedError("--data-dir: this tenfold-cli was built without SQLite "
                               "(TENFOLD_WITH_STORE=OFF), so it has no usage ledger");
    return nullptr; // nothing to record into; docs/PACKAGING.md says so for the Windows cross build
#endif
}

void CliLedger::describe(const Model& model, const std::string& modelPath, const ParsedArgs& args,
                         const std::string& backendName, const InferenceContext& ctx)
{
    base_ = LedgerEntry{};
    base_.source = source_;
    base_.model = std::filesystem::path(modelPath).stem().string();
    base_.device = ledgerDeviceTag(args.getString("--device", "cpu"), backendName);
    base_.modelHash = cost::modelHashHex(model);
    base_.quantization = cost::dominantWeightType(model);
    base_.kernelLevel = cost::kernelLevelFor(base_.device);
    base_.contextSize = ctx.contextSize();
    if (base_.device == "cpu") {
        // The CPU context's pool is what really ran (the backend may pick its own default).
        const int asked = threadCount(args);
        base_.threads = asked > 0 ? asked : int(std::max(1u, std::thread::hardware_concurrency()));
        if (const auto* cpu = dynamic_cast<const CpuContext*>(&ctx))
            base_.threads = cpu->threads();
    }
}

bool CliLedger::record(const LedgerEntry& entry)
{
#if TENFOLD_HAVE_STORE
    try {
        sink_->store.recordUsage(entry);
        return true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tenfold-cli: usage ledger: this run was not recorded: %s\n", e.what());
        return false;
    }
#else
    (void)entry; // unreachable: open() returns no ledger in a build without SQLite
    return false;
#endif
}

} // namespace tenfold::cli
